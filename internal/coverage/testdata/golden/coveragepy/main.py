from pkg.shapes import Square, describe

print(Square(3).area())
print(describe(7), describe(1), describe(2))
try:
    Square(-1)
except ValueError:
    pass
