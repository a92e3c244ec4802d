package alerts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/uptrace/bun"

	"bangui/models"
	"bangui/repo"
	"bangui/services/alerts/alertstest"
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
// has a key) and keeps every body.
type receiver = alertstest.Webhook

func newReceiver(t *testing.T, key string) *receiver {
	return alertstest.NewWebhook(t, SignatureHeader, key)
}

// newTestDelivery is a delivery on db with a fake clock and short timeouts.
func newTestDelivery(db *bun.DB, clock clockwork.Clock) *Delivery {
	return NewDelivery(repo.NewAlertStore(db), Options{Clock: clock, Sender: NewSender(2 * time.Second)})
}

// selfSigned returns a TLS certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) { return alertstest.SelfSigned(t) }
