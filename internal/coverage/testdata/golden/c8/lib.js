function classify(x) {
  if (x < 0) {
    return 'negative';
  } else if (x === 0) {
    return 'zero';
  }
  return x > 100 ? 'large' : 'small';
}

function unused(a, b) {
  const c = a || b;
  return c && a;
}

const sum = (xs) => xs.reduce((t, x) => t + (x > 0 ? x : 0), 0);

module.exports = { classify, unused, sum };
