package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"bangui/hosts"
)

// Files the agent keeps in its data dir, each mode 0600.
const (
	KeyFile        = "agent-key.pem"     // the TLS key (ECDSA P-256)
	CertFile       = "agent-cert.pem"    // its self-signed certificate
	TokenFile      = "enrolment-token"   // the one-time enrolment token and its expiry, until used
	CredentialFile = "credential.sha256" // the SHA-256 of the panel's credential, once enrolled
)

// certLifetime is how long the self-signed certificate is valid. The panel
// pins its fingerprint, so expiry adds nothing but a date to renew.
const certLifetime = 20 * 365 * 24 * time.Hour

// tokenAlphabet has no letters that read like digits (I, L, O, U).
const tokenAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// tokenLen is the token's length in characters: 20 of 32 symbols, 100 bits.
const tokenLen = 20

// loadCertificate reads the agent's key and certificate from dir, creating
// both on the first start.
func loadCertificate(dir string) (tls.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, KeyFile), filepath.Join(dir, CertFile)
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		return cert, nil
	}
	if _, kerr := os.Stat(keyPath); !errors.Is(kerr, fs.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("agent: read the TLS key and certificate in %s: %w (delete both files to make new ones; the panel must then accept the new fingerprint)", dir, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agent: TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agent: certificate serial: %w", err)
	}
	name, _ := os.Hostname()
	if name == "" {
		name = "bangui-agent"
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "bangui agent " + name},
		DNSNames:              []string{name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agent: certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agent: TLS key: %w", err)
	}
	if err := writeSecret(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeSecret(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certPath, keyPath)
}

// certFingerprint is the SHA-256 fingerprint of the certificate, as the
// panel shows it.
func certFingerprint(c tls.Certificate) string { return hosts.Fingerprint(c.Certificate[0]) }

// enrolToken is the one-time token that enrols a panel.
type enrolToken struct {
	Token   string    `json:"token"` // normalised: upper case, no separators
	Expires time.Time `json:"expires"`
}

// display is the token as printed: groups of five.
func (t enrolToken) display() string {
	var parts []string
	for i := 0; i < len(t.Token); i += 5 {
		parts = append(parts, t.Token[i:min(i+5, len(t.Token))])
	}
	return strings.Join(parts, "-")
}

// matches compares input with the token in constant time.
func (t enrolToken) matches(input string) bool {
	in := normaliseToken(input)
	return len(in) == len(t.Token) && subtle.ConstantTimeCompare([]byte(in), []byte(t.Token)) == 1
}

func normaliseToken(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\n", "", "\r", "", "\t", "").Replace(s))
}

// newToken makes a token valid for ttl and writes it to dir.
func newToken(dir string, ttl time.Duration, now time.Time) (enrolToken, error) {
	b := make([]byte, tokenLen)
	if _, err := rand.Read(b); err != nil {
		return enrolToken{}, err
	}
	for i := range b {
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)] // 256 is a multiple of 32: no bias
	}
	t := enrolToken{Token: string(b), Expires: now.Add(ttl).UTC().Truncate(time.Second)}
	data, _ := json.Marshal(t)
	return t, writeSecret(filepath.Join(dir, TokenFile), append(data, '\n'))
}

// newCredential returns a random 32-byte credential and the hash the agent
// keeps of it. SHA-256 suffices: the secret is 256 random bits, so there
// is nothing to guess that a slow hash (bcrypt, argon2) would protect, and
// checking it on every request stays cheap.
func newCredential() (credential string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	credential = base64.RawURLEncoding.EncodeToString(b)
	return credential, hashCredential(credential), nil
}

func hashCredential(c string) []byte {
	sum := sha256.Sum256([]byte(c))
	return sum[:]
}

// loadCredentialHash reads the stored hash; nil when not enrolled.
func loadCredentialHash(dir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, CredentialFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("agent: read the credential: %w", err)
	}
	h, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(h) != sha256.Size {
		return nil, fmt.Errorf("agent: %s is damaged; delete it and enrol the agent again", filepath.Join(dir, CredentialFile))
	}
	return h, nil
}

// writeSecret writes a file readable only by the agent's user, atomically.
func writeSecret(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("agent: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("agent: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("agent: write %s: %w", path, err)
	}
	return nil
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("agent: remove %s: %w", path, err)
	}
	return nil
}
