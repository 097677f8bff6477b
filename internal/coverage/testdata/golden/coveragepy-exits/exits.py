import sys

def classify(n):
    if n < 0:
        return "neg"
    elif n == 0:
        return "zero"
    return "pos"

def loop(xs):
    total = 0
    for x in xs:
        if x % 2:
            total += x
    while total > 100:
        total -= 100
    return total

gen = (x for x in range(3) if x)
squares = [x * x for x in range(5) if x > 1]
print(classify(1), classify(0), loop([1, 2, 3]), list(gen), squares)
if len(sys.argv) > 5:
    print("many")
