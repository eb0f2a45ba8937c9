package graph_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
)

// newCertificate returns a self-signed certificate and a PEM holding it and its key.
func newCertificate(t *testing.T) (*x509.Certificate, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "graphgate test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	return cert, out
}

func TestCertificateCredential(t *testing.T) {
	v := newEnv(t)
	registered, registeredPEM := newCertificate(t)
	_, strangerPEM := newCertificate(t)
	if err := v.e.AddGatewayCertificate(v.tenant.ID, registered); err != nil {
		t.Fatalf("AddGatewayCertificate: %v", err)
	}
	withCert := func(pemData []byte) func(*graph.Config) {
		return func(cfg *graph.Config) { cfg.ClientSecret = ""; cfg.CertificatePEM = pemData }
	}
	target := v.user(t, enabled)

	c := v.client(t, withCert(registeredPEM))
	u, err := c.User(ctxT(t), target.ID, []string{"id"})
	if err != nil {
		t.Fatalf("User with a registered certificate: %v", err)
	}
	if u["id"] != target.ID {
		t.Errorf("id = %v", u["id"])
	}

	stranger := v.client(t, withCert(strangerPEM))
	_, err = stranger.User(ctxT(t), target.ID, []string{"id"})
	wantKind(t, err, graph.ErrUnauthorized)
}
