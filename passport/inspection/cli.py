import click
group = click.Group("inspection")
