package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// oversizedBody is 8 MB of a JSON document that stays valid until the gateway's 1 MiB
// limit: the 413 comes from the limit, not from a syntax error.
func oversizedBody(field string) []byte {
	const size = 8 << 20
	b := make([]byte, 0, size)
	b = append(b, `{"`+field+`":["`...)
	for len(b) < size {
		b = append(b, 'a')
	}
	return b
}

// postWholeThenRead writes a whole POST (headers and body) before reading anything, as
// curl and most HTTP/1.1 clients do, then reads the answer. The write may fail once
// the server has closed: what counts is whether the answer can be read.
func postWholeThenRead(t *testing.T, addr, path, token string, body []byte) (*http.Response, []byte, error, error) {
	c := dialRaw(t, addr)
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: graphgate\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, len(body))
	if token != "" {
		head += "Authorization: Bearer " + token + "\r\n"
	}
	_, werr := c.Write(append([]byte(head+"\r\n"), body...))
	resp, b, err := c.readResponse()
	return resp, b, werr, err
}

// TestOversizedBodyIsAnsweredNotReset sends 8 MB bodies to a real graphgate process
// without reading first: the whole body must be taken (a client whose write fails with
// "connection reset" or "broken pipe" reports that, not the answer: Python's requests,
// for one), then the client must read the whole refusal in Graph's envelope, with
// Content-Length and "Connection: close".
func TestOversizedBodyIsAnsweredNotReset(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	p := startGatewayProcess(t, graphgateBinary(t), emu, "shutdown: {drain: 0s}\n")
	token := p.token(enabledUserIndexes(emu.Directory().Tenants[0])[0])
	cases := []struct {
		name, path, token, field string
		status                   int
	}{
		{"batch", "/v1.0/$batch", token, "requests", http.StatusRequestEntityTooLarge},
		{"presences", "/v1.0/communications/getPresencesByUserId", token, "ids", http.StatusRequestEntityTooLarge},
		// Refused before the body is read at all: the same close, the same remedy.
		{"batch without a token", "/v1.0/$batch", "", "requests", http.StatusUnauthorized},
	}
	answered, writeFailed := 0, 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, werr, err := postWholeThenRead(t, p.addr, tc.path, tc.token, oversizedBody(tc.field))
			if werr != nil {
				writeFailed++
				t.Errorf("sending the body failed: %v", werr)
			}
			if err != nil {
				t.Fatalf("no answer (write: %v): %v", werr, err)
			}
			var env struct {
				Error struct {
					Code       string `json:"code"`
					Message    string `json:"message"`
					InnerError struct {
						RequestID string `json:"request-id"`
					} `json:"innerError"`
				} `json:"error"`
			}
			if resp.StatusCode != tc.status || json.Unmarshal(body, &env) != nil || env.Error.Code == "" ||
				env.Error.InnerError.RequestID == "" {
				t.Fatalf("answer %d %s, want %d in Graph's error envelope", resp.StatusCode, body, tc.status)
			}
			if n, err := strconv.Atoi(resp.Header.Get("Content-Length")); err != nil || n != len(body) {
				t.Errorf("Content-Length %q for a body of %d bytes", resp.Header.Get("Content-Length"), len(body))
			}
			if !resp.Close {
				t.Error("the refusal does not say Connection: close")
			}
			answered++
		})
	}
	t.Logf("FAULT lingering_413: clients=%d body_bytes=%d write_failed=%d answered=%d unanswered=%d",
		len(cases), 8<<20, writeFailed, answered, len(cases)-answered)
}

// TestLingeringCloseIsBounded sends an oversized body that never ends, fast and slowly:
// the gateway answers 413 and cuts the connection after its byte or time bound
// (lingerBytes, lingerTime), and keeps serving others meanwhile.
func TestLingeringCloseIsBounded(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	p := startGatewayProcess(t, graphgateBinary(t), emu, "shutdown: {drain: 0s}\n")
	token := p.token(enabledUserIndexes(emu.Directory().Tenants[0])[0])
	for _, tc := range []struct {
		name  string
		chunk int
		pause time.Duration
	}{
		{"fast: cut after lingerBytes", 256 << 10, 0},
		{"slow: cut after lingerTime", 16 << 10, 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent, status, took := endlessUpload(t, p, token, tc.chunk, tc.pause)
			t.Logf("FAULT lingering_bound: case=%q sent_bytes=%d status=%d cut_after_ms=%d", tc.name, sent, status, took.Milliseconds())
			if status != http.StatusRequestEntityTooLarge {
				t.Errorf("the endless sender read %d, want the 413", status)
			}
			// The client counts what its kernel accepted: the gateway's discard plus socket buffers.
			if sent > lingerBytes+maxBodyPlusBuffers {
				t.Errorf("the gateway took %d bytes before cutting, bound %d", sent, lingerBytes)
			}
			if took > lingerTime+lingerSlack {
				t.Errorf("the gateway kept the connection %s after the answer, bound lingerTime %s (+%s slack)",
					took, lingerTime, lingerSlack)
			}
		})
	}
}

// maxBodyPlusBuffers is what a client may count as sent beyond what the gateway
// discarded: the 1 MiB body limit and the sockets' buffers on both sides.
const maxBodyPlusBuffers = 32 << 20

// lingerSlack is what a client may see beyond lingerTime between reading the answer and
// its write failing: net/http's 500 ms wait after CloseWrite, the reset's way back and
// a loaded CI machine's scheduling.
const lingerSlack = 2 * time.Second

// endlessUpload POSTs a $batch announcing 1 TiB and sends chunks until the gateway cuts
// the connection, reading answers meanwhile; it checks that the gateway still serves
// /healthz while it lingers and returns the bytes sent, the status read and how long
// the gateway kept the connection after the answer.
func endlessUpload(t *testing.T, p *gatewayProcess, token string, chunk int, pause time.Duration) (int64, int, time.Duration) {
	c := dialRaw(t, p.addr)
	_ = c.SetDeadline(time.Now().Add(25 * time.Second))
	if _, err := fmt.Fprintf(c, "POST /v1.0/$batch HTTP/1.1\r\nHost: graphgate\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"requests\":[\"", token, int64(1)<<40); err != nil {
		t.Fatal(err)
	}
	var answeredAt atomic.Int64
	status := make(chan int, 1)
	go func() {
		resp, _, err := c.readResponse()
		answeredAt.Store(time.Now().UnixNano())
		if err != nil {
			status <- 0
			return
		}
		status <- resp.StatusCode
	}()
	buf := []byte(strings.Repeat("a", chunk))
	var sent int64
	checked := false
	for {
		n, err := c.Write(buf)
		sent += int64(n)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("the gateway never cut the endless upload")
			}
			break
		}
		if at := answeredAt.Load(); at != 0 && !checked {
			checked = true
			if resp, err := http.Get(p.base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("/healthz while a connection lingers: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
		}
		time.Sleep(pause)
	}
	at := answeredAt.Load()
	if at == 0 {
		return sent, <-status, 0
	}
	return sent, <-status, time.Since(time.Unix(0, at))
}

// TestCutConnectionsCloseWithoutLingering: at the end of the shutdown grace period,
// http.Server.Close closes the connections one by one while holding its lock. A
// half-closed connection whose client is still sending must then close at once, not
// linger lingerTime each: three such connections close well within one lingerTime. A
// connection lingering already (its own goroutine's Close) is ended by that Close too.
func TestCutConnectionsCloseWithoutLingering(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lln := newLingerListener(ln, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = lln.Close() })
	const n = 4 // the first lingers in its own goroutine; the others are closed after cut
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = halfClosedWithSender(t, lln)
	}
	ownClose := make(chan struct{})
	go func() { defer close(ownClose); _ = conns[0].Close() }() // lingers: the client never stops
	waitFor(t, "the first connection to linger", func() bool { return conns[0].(*lingerConn).lingering.Load() })

	lln.cut()
	start := time.Now()
	closed := make(chan struct{})
	go func() { // as http.Server.Close does: one by one
		defer close(closed)
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	select {
	case <-closed:
	case <-time.After(lingerTime): // serially lingering, they would take (n-1)·lingerTime
		t.Fatalf("closing %d cut connections took over lingerTime (%s): Close lingered", n, lingerTime)
	}
	select {
	case <-ownClose:
	case <-time.After(lingerTime):
		t.Fatal("the connection lingering in its own Close was not ended by the second Close")
	}
	t.Logf("FAULT linger_cut: connections=%d close_all_ms=%d", n, time.Since(start).Milliseconds())
}

// halfClosedWithSender accepts a connection from a client that sends slowly without end
// (far from lingerBytes within lingerTime) and half-closes it as net/http does before
// closing with input unread.
func halfClosedWithSender(t *testing.T, lln *lingerListener) net.Conn {
	t.Helper()
	client := dialRaw(t, lln.Addr().String())
	go func() {
		buf := make([]byte, 1<<10)
		for {
			if _, err := client.Write(buf); err != nil {
				return // cut by the server (or the test's cleanup)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	c, err := lln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*lingerConn); !ok {
		t.Fatalf("accepted a %T, want a *lingerConn", c)
	}
	if err := c.(*lingerConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	return c
}
