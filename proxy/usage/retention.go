package usage

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Retention is how long aggregates are kept, in calendar months and days. The zero value
// means the default of 13 months.
type Retention struct {
	Months int
	Days   int
}

// DefaultRetention is 13 months: a year of history plus the month to compare it with.
var DefaultRetention = Retention{Months: 13}

// DaysPerMonth is the mean length of a calendar month in days, as used wherever a
// retention in months is stated as a duration (Approx) or a duration is read as months.
const DaysPerMonth = 30.44

// Approx returns r as a duration for people and records of processing: months of
// DaysPerMonth days, plus the days, rounded to whole days. The zero value is
// DefaultRetention, as for Cutoff. Deletion itself goes by calendar (Cutoff).
func (r Retention) Approx() time.Duration {
	if r.Months <= 0 && r.Days <= 0 {
		r = DefaultRetention
	}
	days := math.Round(float64(r.Months)*DaysPerMonth + float64(r.Days))
	return time.Duration(days) * 24 * time.Hour
}

// Cutoff returns the instant before which aggregates are deleted.
func (r Retention) Cutoff(now time.Time) time.Time {
	if r.Months <= 0 && r.Days <= 0 {
		r = DefaultRetention
	}
	return dayOf(now).AddDate(0, -r.Months, -r.Days)
}

// String renders r as ParseRetention reads it.
func (r Retention) String() string {
	if r.Days == 0 {
		return fmt.Sprintf("%dmo", r.Months)
	}
	return fmt.Sprintf("%dd", r.Months*31+r.Days)
}

// ParseRetention reads "13mo" (months), "400d" (days) or "1y" (years); "" is the default.
func ParseRetention(s string) (Retention, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultRetention, nil
	}
	for _, u := range []struct {
		suffix string
		set    func(n int) Retention
	}{
		{"mo", func(n int) Retention { return Retention{Months: n} }},
		{"y", func(n int) Retention { return Retention{Months: 12 * n} }},
		{"d", func(n int) Retention { return Retention{Days: n} }},
	} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.Atoi(num)
			if err != nil || n <= 0 {
				break
			}
			return u.set(n), nil
		}
	}
	return Retention{}, fmt.Errorf("usage: retention %q: use e.g. 13mo, 400d or 1y", s)
}
