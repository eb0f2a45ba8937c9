package proxy

import "github.com/graphgate/graphgate/proxy/usage"

// UsageRecorder receives one anonymised event per authenticated request (see observe).
// *usage.Recorder implements it; Record must not block.
type UsageRecorder interface {
	Record(ev usage.Event)
}
