from cnncalc.cli import run

run()
