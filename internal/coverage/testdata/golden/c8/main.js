const { classify, sum } = require('./lib');
console.log(classify(5), classify(-1), sum([1, -2, 3]));
