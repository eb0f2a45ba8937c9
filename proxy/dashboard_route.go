package proxy

import (
	"io/fs"
	"strings"

	"github.com/gin-gonic/gin"
)

// dashboardAsset serves GET /usage/assets/*file through page (the dashboard's handler)
// only for a file the embedded tree holds. Anything else (a missing file, a directory,
// "..", the page itself) is a 404 in Graph's envelope with the gateway's no-store
// headers, like every other error: http.FileServer would answer plain text with
// Cache-Control: no-cache.
func dashboardAsset(page gin.HandlerFunc, files fs.FS) gin.HandlerFunc {
	return func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("file"), "/")
		st, err := fs.Stat(files, name)
		if name == "" || name == "index.html" || err != nil || st.IsDir() {
			abortWithError(c, errNoRoute)
			return
		}
		page(c)
	}
}
