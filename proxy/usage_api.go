package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/proxy/usage"
)

// RoleAnalyst is the app role that grants the usage API.
const RoleAnalyst = "Gateway.Analyst"

// UsageReports answers the analysts' usage API, with the release rule applied.
// *usage.Reader implements it.
type UsageReports interface {
	Requests(ctx context.Context, tenant string, p usage.Params) (usage.Report[usage.RequestRow], error)
	Latency(ctx context.Context, tenant string, p usage.Params) (usage.Report[usage.LatencyRow], error)
	Cache(ctx context.Context, tenant string, p usage.Params) (usage.Report[usage.CacheRow], error)
	ActiveUsers(ctx context.Context, tenant string, p usage.Params) (usage.Report[usage.UsersRow], error)
}

// handleUsageReport answers one usage report (kind: requests, latency, cache,
// active-users) for the caller's tenant, as JSON or, with format=csv or Accept: text/csv,
// as CSV.
func handleUsageReport(rep UsageReports, kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		csv, err := wantsCSV(c)
		if err != nil {
			abortWithError(c, err)
			return
		}
		p, err := usage.ParseParams(kind, c.Request.URL.Query(), time.Now())
		if err != nil {
			var pe *usage.ParamError
			if errors.As(err, &pe) {
				abortWithError(c, errBadRequest(pe.Msg))
				return
			}
			abortWithError(c, err)
			return
		}
		ctx, tenantID := c.Request.Context(), scopeOf(c).tenantID()
		switch kind {
		case "requests":
			r, err := rep.Requests(ctx, tenantID, p)
			writeReport(c, kind, r, err, csv)
		case "latency":
			r, err := rep.Latency(ctx, tenantID, p)
			writeReport(c, kind, r, err, csv)
		case "cache":
			r, err := rep.Cache(ctx, tenantID, p)
			writeReport(c, kind, r, err, csv)
		default:
			r, err := rep.ActiveUsers(ctx, tenantID, p)
			writeReport(c, kind, r, err, csv)
		}
	}
}

// wantsCSV reads format= (json or csv) and, without it, the Accept header.
func wantsCSV(c *gin.Context) (bool, error) {
	switch f := c.Query("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		return strings.Contains(c.GetHeader("Accept"), "text/csv"), nil
	default:
		return false, errBadRequest("format must be json or csv.")
	}
}

func writeReport[R usage.CSVRow](c *gin.Context, kind string, rep usage.Report[R], err error, csv bool) {
	if err != nil {
		abortWithError(c, &apiError{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
			Message: "The usage store is unavailable; retry later.", RetryAfter: 5 * time.Second, cause: err})
		return
	}
	if !csv {
		c.JSON(http.StatusOK, rep)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="usage-%s-%s-%s.csv"`, kind, rep.From, rep.To))
	c.Status(http.StatusOK)
	if err := usage.WriteCSV(c.Writer, rep, false); err != nil {
		_ = c.Error(err)
	}
}
