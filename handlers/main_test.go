package handlers

import (
	"testing"

	"bangui/internal/pgtest"
)

// TestMain stops the private PostgreSQL cluster, if a test started one,
// and removes the agent binary, if a test built one.
func TestMain(m *testing.M) { pgtest.Main(m, agentBin.Remove) }
