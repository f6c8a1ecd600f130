def load(db, ctx): pass
