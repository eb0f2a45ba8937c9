package main

import (
	"context"
	"io"
	stdlog "log"
	"log/slog"

	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
)

// quietLibraries routes or silences every library's own log output, so that nothing
// but graphgate's allow-listed records reaches the logs: library messages can carry
// request URLs (which hold UPNs), client addresses, keys or values.
//
//   - gin: release mode, and its default writers (debug route listing, Logger and
//     Recovery middleware, which graphgate does not use) discard.
//   - The standard library's global logger (net/http servers without an ErrorLog, TLS
//     handshake errors with client IPs, other libraries): each line is replaced by a
//     warning that says only that a line was suppressed, and its length.
//   - azcore / azidentity: the SDK logs whole requests when AZURE_SDK_GO_LOGGING=all;
//     its listener is removed.
//   - go-redis: its internal logger keeps only the constant format string (no
//     arguments, which can hold addresses and keys), at debug level.
//
// pgx, modernc.org/sqlite, kiota, MSAL and the Prometheus client log nothing unless
// given a logger, and graphgate gives them none.
func quietLibraries(log *slog.Logger) {
	gin.SetMode(gin.ReleaseMode)
	gin.DefaultWriter = io.Discard
	gin.DefaultErrorWriter = io.Discard
	stdlog.SetFlags(0)
	stdlog.SetOutput(suppressedLines{log})
	azlog.SetListener(nil)
	redis.SetLogger(redisLogger{log})
}

// suppressedLines replaces library log lines by a notice without their text.
type suppressedLines struct{ log *slog.Logger }

func (s suppressedLines) Write(p []byte) (int, error) {
	s.log.Warn("library log line suppressed: it could hold request data", "bytes", len(p))
	return len(p), nil
}

// redisLogger logs go-redis's messages by their format string only.
type redisLogger struct{ log *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, _ ...any) {
	r.log.DebugContext(ctx, "redis client", "message", format)
}
