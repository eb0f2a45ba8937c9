package usage

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Dimensions a report may group by.
const (
	DimClientApp   = "client_app"
	DimOperation   = "operation"
	DimStatusClass = "status_class"
	DimCache       = "cache"
)

// Granularities of a report.
const (
	Hour = "hour"
	Day  = "day"
)

// Report kinds and the dimensions each may be grouped by.
var groupable = map[string][]string{
	"requests":     {DimClientApp, DimOperation, DimStatusClass, DimCache},
	"latency":      {DimClientApp, DimOperation},
	"cache":        {DimClientApp},
	"active-users": {DimClientApp},
}

// MaxRangeDays bounds a report's date range.
const MaxRangeDays = 400

// DefaultRangeDays is how far back a report reaches when from is not given.
const DefaultRangeDays = 30

// Params are a report's parameters.
type Params struct {
	From, To    time.Time // UTC days, both included
	Granularity string    // Hour or Day
	GroupBy     []string  // dimensions, in the order asked
}

// ParamError is a bad report parameter; its message is safe to show to the caller.
type ParamError struct{ Msg string }

func (e *ParamError) Error() string { return e.Msg }

// ParseParams reads from, to, granularity and group_by for the report kind ("requests",
// "latency", "cache", "active-users"). Defaults: to = today (UTC), from = to − 30 days,
// granularity = day, no grouping.
func ParseParams(kind string, q url.Values, now time.Time) (Params, error) {
	allowed, ok := groupable[kind]
	if !ok {
		return Params{}, &ParamError{Msg: fmt.Sprintf("unknown report %q", kind)}
	}
	p := Params{To: dayOf(now), Granularity: Day, GroupBy: []string{}}
	var err error
	if s := q.Get("to"); s != "" {
		if p.To, err = parseDay("to", s); err != nil {
			return Params{}, err
		}
	}
	p.From = p.To.AddDate(0, 0, -DefaultRangeDays)
	if s := q.Get("from"); s != "" {
		if p.From, err = parseDay("from", s); err != nil {
			return Params{}, err
		}
	}
	switch {
	case p.From.After(p.To):
		return Params{}, &ParamError{Msg: "from must not be after to."}
	case p.To.Sub(p.From) > MaxRangeDays*24*time.Hour:
		return Params{}, &ParamError{Msg: fmt.Sprintf("The date range may span at most %d days.", MaxRangeDays)}
	}
	if g := q.Get("granularity"); g != "" {
		if g != Hour && g != Day {
			return Params{}, &ParamError{Msg: "granularity must be hour or day."}
		}
		p.Granularity = g
	}
	if kind == "active-users" && p.Granularity != Day {
		return Params{}, &ParamError{Msg: "Active users are counted per day: granularity must be day."}
	}
	if s := q.Get("group_by"); s != "" {
		for _, d := range strings.Split(s, ",") {
			d = strings.TrimSpace(d)
			if !slices.Contains(allowed, d) {
				return Params{}, &ParamError{Msg: fmt.Sprintf("group_by for %s may hold: %s.", kind, strings.Join(allowed, ", "))}
			}
			if slices.Contains(p.GroupBy, d) {
				return Params{}, &ParamError{Msg: "group_by lists a dimension twice."}
			}
			p.GroupBy = append(p.GroupBy, d)
		}
	}
	return p, nil
}

func parseDay(name, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, &ParamError{Msg: fmt.Sprintf("%s must be a date YYYY-MM-DD.", name)}
	}
	return t, nil
}

// end is the first instant after the range.
func (p Params) end() time.Time { return p.To.AddDate(0, 0, 1) }

func (p Params) groups(d string) bool { return slices.Contains(p.GroupBy, d) }

// slot truncates t to the report's granularity.
func (p Params) slot(t time.Time) time.Time {
	if p.Granularity == Hour {
		return t.UTC().Truncate(time.Hour)
	}
	return dayOf(t)
}
