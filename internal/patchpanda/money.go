package patchpanda

import (
	"strconv"
	"strings"
)

// MicrosPerUSD is how many micro-USD make one US dollar.
const MicrosPerUSD = 1_000_000

// MaxMicros bounds amounts (one billion USD), far below where int64 would
// overflow when amounts are added up.
const MaxMicros = 1_000_000_000 * MicrosPerUSD

// ParseUSD parses a non-negative decimal amount of US dollars such as "12",
// "12.34" or "0.000001" exactly (no floating point) into micro-USD. A
// leading "$" is allowed. It returns an EINVALID error naming the value for
// anything else: signs, exponents, separators, more than six decimal places
// or amounts over one billion.
func ParseUSD(s string) (int64, error) {
	in := s
	s = strings.TrimPrefix(strings.TrimSpace(s), "$")
	bad := func(why string) (int64, error) {
		return 0, Errorf(EINVALID, "amount %q %s", in, why)
	}
	if s == "" {
		return bad("is empty; want US dollars like 12.34")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return bad("is not a decimal number like 12.34")
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return bad("is not a non-negative decimal number like 12.34")
			}
		}
	}
	if len(frac) > 6 {
		return bad("has more than 6 decimal places (the smallest unit is a micro-dollar)")
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 10 {
		return bad("is over the limit of 1000000000 USD")
	}
	var w int64
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64)
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	}
	m := w*MicrosPerUSD + f
	if m > MaxMicros {
		return bad("is over the limit of 1000000000 USD")
	}
	return m, nil
}

// FormatUSD formats micro-USD as dollars with at least two and at most six
// decimal places: 12340000 is "12.34", 1 is "0.000001".
func FormatUSD(micros int64) string {
	sign := ""
	u := uint64(micros)
	if micros < 0 {
		sign, u = "-", uint64(-micros)
	}
	whole, frac := u/MicrosPerUSD, u%MicrosPerUSD
	fs := strconv.FormatUint(frac+MicrosPerUSD, 10)[1:] // six digits, zero-padded
	fs = strings.TrimRight(fs, "0")
	for len(fs) < 2 {
		fs += "0"
	}
	return sign + strconv.FormatUint(whole, 10) + "." + fs
}
