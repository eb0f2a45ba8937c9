package usage

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CSVRow is a report row that can render itself as CSV (RequestRow, LatencyRow, CacheRow, UsersRow).
type CSVRow interface {
	columns() []field
}

type field struct {
	name  string
	value string
	dim   bool // a grouping dimension: a column only when grouped by
}

func i64(n int64) string   { return strconv.FormatInt(n, 10) }
func f64(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
func dims(r RequestRow) []field {
	return []field{{DimClientApp, r.ClientApp, true}, {DimOperation, r.Operation, true},
		{DimStatusClass, r.StatusClass, true}, {DimCache, r.Cache, true}}
}

func (r RequestRow) columns() []field {
	return append(append([]field{{"time", r.Time, false}}, dims(r)...), field{"requests", i64(r.Requests), false})
}

func (r LatencyRow) columns() []field {
	return []field{{"time", r.Time, false}, {DimClientApp, r.ClientApp, true}, {DimOperation, r.Operation, true},
		{"p50_ms", f64(r.P50), false}, {"p90_ms", f64(r.P90), false}, {"p99_ms", f64(r.P99), false},
		{"requests", i64(r.Requests), false}}
}

func (r CacheRow) columns() []field {
	return []field{{"time", r.Time, false}, {DimClientApp, r.ClientApp, true},
		{"hits", i64(r.Hits), false}, {"misses", i64(r.Misses), false}, {"ratio", f64(r.Ratio), false}}
}

func (r UsersRow) columns() []field {
	return []field{{"time", r.Time, false}, {DimClientApp, r.ClientApp, true}, {"users", i64(r.Users), false}}
}

// tenantOf returns the row's tenant (set by exports only).
func tenantOf(r any) string {
	switch v := r.(type) {
	case RequestRow:
		return v.Tenant
	case LatencyRow:
		return v.Tenant
	case CacheRow:
		return v.Tenant
	case UsersRow:
		return v.Tenant
	}
	return ""
}

// csvText neutralises a cell a spreadsheet would run as a formula (CSV injection): a
// value starting with '=', '+', '-', '@', a tab or a carriage return gets a leading
// apostrophe, as OWASP advises. The report's own numbers are never negative, so only
// text can start that way (client app names, operations, tenants).
func csvText(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// WriteCSV writes a report's rows as CSV with a header line; grouping dimensions appear
// as columns only when the report is grouped by them, and a tenant column leads when
// withTenant is set (exports).
func WriteCSV[R CSVRow](w io.Writer, rep Report[R], withTenant bool) error {
	cw := csv.NewWriter(w)
	grouped := map[string]bool{}
	for _, d := range rep.GroupBy {
		grouped[d] = true
	}
	var zero R
	header := []string{}
	if withTenant {
		header = append(header, "tenant")
	}
	for _, f := range zero.columns() {
		if !f.dim || grouped[f.name] {
			header = append(header, f.name)
		}
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("usage: csv: %w", err)
	}
	for _, row := range rep.Rows {
		rec := make([]string, 0, len(header))
		if withTenant {
			rec = append(rec, csvText(tenantOf(row)))
		}
		for _, f := range row.columns() {
			if !f.dim || grouped[f.name] {
				rec = append(rec, csvText(f.value))
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("usage: csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("usage: csv: %w", err)
	}
	return nil
}

// ExportRequests reports released request counts of every tenant in the store, each row
// carrying its tenant; Total sums them.
func (r *Reader) ExportRequests(ctx context.Context, p Params) (Report[RequestRow], error) {
	tenants, err := r.Store.Tenants(ctx)
	if err != nil {
		return Report[RequestRow]{}, err
	}
	out := newReport[RequestRow](p, r.k())
	var total int64
	for _, t := range tenants {
		rep, err := r.Requests(ctx, t, p)
		if err != nil {
			return Report[RequestRow]{}, err
		}
		for _, row := range rep.Rows {
			row.Tenant = t
			out.Rows = append(out.Rows, row)
		}
		total += *rep.Total
	}
	out.Total = &total
	return out, nil
}

// ExportActiveUsers reports released distinct-user counts of every tenant in the store.
func (r *Reader) ExportActiveUsers(ctx context.Context, p Params) (Report[UsersRow], error) {
	tenants, err := r.Store.Tenants(ctx)
	if err != nil {
		return Report[UsersRow]{}, err
	}
	out := newReport[UsersRow](p, r.k())
	for _, t := range tenants {
		rep, err := r.ActiveUsers(ctx, t, p)
		if err != nil {
			return Report[UsersRow]{}, err
		}
		for _, row := range rep.Rows {
			row.Tenant = t
			out.Rows = append(out.Rows, row)
		}
	}
	return out, nil
}
