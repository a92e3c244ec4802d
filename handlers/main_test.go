package handlers

import (
	"testing"

	"bangui/internal/pgtest"
)

// TestMain stops the private PostgreSQL cluster, if a test started one.
func TestMain(m *testing.M) { pgtest.Main(m) }
