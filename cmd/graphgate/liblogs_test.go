package main

import (
	"context"
	"io"
	stdlog "log"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

func TestLibraryLogsCarryNoData(t *testing.T) {
	const personal = "alice@contoso.example"
	var buf testkit.SyncBuffer
	log, err := newLogger(&buf, "debug")
	if err != nil {
		t.Fatal(err)
	}
	quietLibraries(log)

	stdlog.Printf("http: TLS handshake error from 10.1.2.3:4567: GET /v1.0/users/%s", personal)
	redisLog := redisLogger{log}
	redisLog.Printf(context.Background(), "redis: failed to reach %s for key %s", "10.1.2.3:6379", personal)
	if gin.Mode() != gin.ReleaseMode || gin.DefaultWriter != io.Discard || gin.DefaultErrorWriter != io.Discard {
		t.Error("gin may still print")
	}

	out := buf.String()
	if strings.Contains(out, personal) || strings.Contains(out, "10.1.2.3") {
		t.Errorf("library output reached the logs:\n%s", out)
	}
	if !strings.Contains(out, "library log line suppressed") || !strings.Contains(out, `"message":"redis: failed to reach %s for key %s"`) {
		t.Errorf("library lines are not accounted for:\n%s", out)
	}
}
