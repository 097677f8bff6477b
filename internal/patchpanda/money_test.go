package patchpanda

import (
	"strings"
	"testing"
	"time"
)

func TestParseUSDIsExact(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"12.34", 12_340_000},
		{"0.1", 100_000},
		{"0.000001", 1},
		{"19.99", 19_990_000}, // 19.99 is 19.989999… as a float64
		{"$5", 5_000_000},
		{"007.50", 7_500_000},
		{"0", 0},
		{" 3.3 ", 3_300_000},
		{"1000000000", MaxMicros},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUSD(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseUSD(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseUSDRejects(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "is empty"},
		{"negative", "-1", "non-negative"},
		{"exponent", "1e3", "non-negative decimal"},
		{"seven decimals", "0.0000001", "more than 6 decimal places"},
		{"thousands separator", "1,000", "non-negative decimal"},
		{"trailing dot", "12.", "decimal number"},
		{"leading dot", ".5", "decimal number"},
		{"over the limit", "1000000000.01", "over the limit"},
		{"far over the limit", "99999999999999999999999", "over the limit"},
		{"two dots", "1.2.3", "non-negative decimal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseUSD(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseUSD(%q) = %v, want error containing %q", tt.in, err, tt.want)
			}
			if ErrorCode(err) != EINVALID {
				t.Errorf("code = %s, want invalid", ErrorCode(err))
			}
		})
	}
}

func TestFormatUSD(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0.00"},
		{12_340_000, "12.34"},
		{12_345_600, "12.3456"},
		{1, "0.000001"},
		{5_000_000, "5.00"},
		{-1_500_000, "-1.50"},
	}
	for _, tt := range tests {
		if got := FormatUSD(tt.in); got != tt.want {
			t.Errorf("FormatUSD(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecideBudget(t *testing.T) {
	p := BillingProject{Name: "acme", BudgetMicros: 10_000_000}
	tests := []struct {
		name            string
		b               Budget
		wantOver        bool
		wantReasonStart string
	}{
		{"unbound repositories are allowed", Budget{Unbound: true, Repository: "a/b"}, false, "unbound"},
		{"a project without a budget never refuses", Budget{Project: BillingProject{Name: "free"}, SpentMicros: 1 << 40}, false, "billing project free has no monthly budget"},
		{"an estimate that fits is allowed", Budget{Project: p, SpentMicros: 9_000_000, EstimateMicros: 1_000_000}, false, "within budget"},
		{"an estimate that does not fit is refused", Budget{Project: p, SpentMicros: 9_000_000, EstimateMicros: 1_000_001}, true, "billing project acme is over"},
		{"a used-up budget refuses even a free job", Budget{Project: p, SpentMicros: 10_000_000}, true, "billing project acme is over"},
		{"overspending refuses", Budget{Project: p, SpentMicros: 12_000_000}, true, "billing project acme is over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DecideBudget(tt.b)
			if got.Over != tt.wantOver {
				t.Errorf("Over = %v, want %v", got.Over, tt.wantOver)
			}
			if !strings.HasPrefix(got.Reason(), tt.wantReasonStart) {
				t.Errorf("Reason = %q, want it to start with %q", got.Reason(), tt.wantReasonStart)
			}
		})
	}
}

func TestMonthStart(t *testing.T) {
	in := time.Date(2026, 3, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)) // still February in UTC
	if got, want := MonthStart(in), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("MonthStart = %v, want %v", got, want)
	}
}

func FuzzParseUSD(f *testing.F) {
	for _, s := range []string{"12.34", "0", "$1.000001", "1e3", "-0", "000000000000001.5", "1000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseUSD(s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ParseUSD(%q): error code %s", s, ErrorCode(err))
			}
			return
		}
		if m < 0 || m > MaxMicros {
			t.Fatalf("ParseUSD(%q) = %d, out of range", s, m)
		}
		again, err := ParseUSD(FormatUSD(m))
		if err != nil || again != m {
			t.Fatalf("round trip of %q: %d -> %q -> %d, %v", s, m, FormatUSD(m), again, err)
		}
	})
}
