package scan_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/graphgate/graphgate/proxy/privacy/scan"
)

// benchValues returns n values like a directory's: names, UPNs, object ids, phones.
func benchValues(n int) []scan.Value {
	r := rand.New(rand.NewPCG(9, 10))
	first := []string{"Adele", "Alex", "Diego", "Grady", "Henrietta", "Isaiah", "Johanna", "Lidia", "Megan", "Nestor", "Patti", "Pradeep"}
	last := []string{"Vance", "Wilber", "Siciliani", "Archie", "Mueller", "Langer", "Lambert", "Holloway", "Bowen", "Wilke", "Fernandez", "Gupta"}
	var vs []scan.Value
	for i := 0; len(vs) < n; i++ {
		f, l := first[r.IntN(len(first))], last[r.IntN(len(last))]
		var id [16]byte
		for j := range id {
			id[j] = byte(r.Uint32())
		}
		for _, v := range []string{
			fmt.Sprintf("%s %s%d", f, l, i),
			fmt.Sprintf("%s.%s%d@contoso.example", f, l, i),
			hex.EncodeToString(id[:4]) + "-" + hex.EncodeToString(id[4:6]) + "-" + hex.EncodeToString(id[6:8]) + "-" + hex.EncodeToString(id[8:10]) + "-" + hex.EncodeToString(id[10:]),
			fmt.Sprintf("+1 555 %04d", i),
		} {
			vs = append(vs, scan.Value{Label: fmt.Sprintf("value %d", len(vs)+1), Text: []byte(v)})
		}
	}
	return vs[:n]
}

// benchLog returns about size bytes of a gateway's JSON log without personal data:
// route templates, request ids, timestamps, durations, tokens' hashes and URLs.
func benchLog(size int) []byte {
	r := rand.New(rand.NewPCG(11, 12))
	var b bytes.Buffer
	routes := []string{"/v1.0/users/{id}", "/v1.0/me/photo/$value", "/beta/users/{id}/presence", "/v1.0/$batch", "/v1.0/users?$search"}
	for b.Len() < size {
		var rid [16]byte
		for j := range rid {
			rid[j] = byte(r.Uint32())
		}
		fmt.Fprintf(&b, `{"time":"2025-03-%02dT10:%02d:%02d.%03d+01:00","level":"INFO","msg":"request","route":"GET %s","status":%d,"duration_ms":%.3f,"tenant":"contoso.example","client":"Teams \"tab\" app","request_id":"%s","cache":"hit","ua":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36","etag":"%s","next":"https://graph.microsoft.com/v1.0/users?%%24top=100&%%24skiptoken=%s"}`+"\n",
			r.IntN(28)+1, r.IntN(60), r.IntN(60), r.IntN(1000), routes[r.IntN(len(routes))], 200+r.IntN(3)*100, r.Float64()*50,
			hex.EncodeToString(rid[:]), base64.StdEncoding.EncodeToString(rid[:12]), base64.RawURLEncoding.EncodeToString(append(rid[:], rid[:]...)))
	}
	return b.Bytes()
}

// BenchmarkLog scans a 10 MB log for 300 values.
func BenchmarkLog(b *testing.B) {
	s, err := scan.New(benchValues(300))
	if err != nil {
		b.Fatal(err)
	}
	data := benchLog(10 << 20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if f := s.Bytes("bench.log", data); len(f) != 0 {
			b.Fatalf("%d findings in a clean log, first %v", len(f), f[0])
		}
	}
}

// BenchmarkBinary scans 10 MB of random bytes for 300 values.
func BenchmarkBinary(b *testing.B) {
	s, err := scan.New(benchValues(300))
	if err != nil {
		b.Fatal(err)
	}
	data := noise(rand.New(rand.NewPCG(13, 14)), 10<<20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		s.Bytes("bench.bin", data)
	}
}

// BenchmarkBase64 scans 10 MB of long base64 lines, like photos in JSON exports, for
// 300 values.
func BenchmarkBase64(b *testing.B) {
	s, err := scan.New(benchValues(300))
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(15, 16))
	var data []byte
	for len(data) < 10<<20 {
		data = append(data, `{"photo":"`...)
		data = append(data, base64.StdEncoding.EncodeToString(noise(r, 300<<10))...)
		data = append(data, "\"}\n"...)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		s.Bytes("photos.json", data)
	}
}
