package alerts

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/uptrace/bun"

	"bangui/models"
	"bangui/repo"
)

// openDB opens BanGUI's database (real SQLite, migrated) in dir.
func openDB(t *testing.T, dir string) *bun.DB {
	t.Helper()
	db, err := repo.Open(context.Background(), repo.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addChannel stores a channel of kind with settings c and secret.
func addChannel(t *testing.T, store *repo.AlertStore, name, kind string, c Config, secret string) models.AlertChannel {
	t.Helper()
	b, _ := json.Marshal(c)
	ch := models.AlertChannel{Name: name, Kind: kind, Config: string(b), Secret: secret}
	if err := store.SaveChannel(context.Background(), &ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

// receiver is a webhook receiver that checks the HMAC signature (when it
// has a key) and keeps every body; status says what it answers.
type receiver struct {
	*httptest.Server
	key []byte

	mu     sync.Mutex
	bodies []map[string]any
	bad    int // requests whose signature did not match
	status int
}

func newReceiver(t *testing.T, key string) *receiver {
	r := &receiver{key: []byte(key), status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.key) > 0 && req.Header.Get(SignatureHeader) != Sign(r.key, body) {
			r.bad++
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		if r.status != http.StatusOK {
			http.Error(w, "down", r.status)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		r.bodies = append(r.bodies, m)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.bodies...)
}

func (r *receiver) answer(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

// newTestDelivery is a delivery on db with a fake clock and short timeouts.
func newTestDelivery(db *bun.DB, clock clockwork.Clock) *Delivery {
	return NewDelivery(repo.NewAlertStore(db), Options{Clock: clock, Sender: NewSender(2 * time.Second)})
}

// selfSigned returns a TLS certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
