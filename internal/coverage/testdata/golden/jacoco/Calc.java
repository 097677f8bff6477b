package com.example;

public class Calc {
    public static String classify(int x) {
        if (x < 0) {
            return "negative";
        } else if (x == 0) {
            return "zero";
        }
        return x > 100 && x % 2 == 0 ? "large-even" : "other";
    }

    static int unused(int y) {
        return y > 3 ? y : -y;
    }

    public static class Inner {
        public int twice(int x) { return x * 2; }
        public int never() { return 42; }
    }

    public static void main(String[] args) {
        System.out.println(classify(5) + classify(-1) + new Inner().twice(3));
        Runnable r = () -> System.out.println("lambda");
        r.run();
    }
}
