class Shape:
    def area(self):
        raise NotImplementedError


class Square(Shape):
    def __init__(self, side):
        if side < 0:
            raise ValueError("negative side")
        self.side = side

    def area(self):
        return self.side * self.side


def describe(x):
    if x > 10:
        return "big"
    elif x > 5:
        return "medium"
    for i in range(3):
        if i == x:
            return "tiny"
    return "small"
