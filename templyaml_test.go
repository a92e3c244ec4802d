package main

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestTemplYAMLMatchesGoMod keeps templ.yaml's templ_version equal to the
// templ module version pinned in go.mod.
func TestTemplYAMLMatchesGoMod(t *testing.T) {
	yamlVersion := firstField(t, "templ.yaml", "templ_version:")
	modVersion := firstField(t, "go.mod", "github.com/a-h/templ ")
	if yamlVersion == "" || modVersion == "" {
		t.Fatalf("versions not found: templ.yaml %q, go.mod %q", yamlVersion, modVersion)
	}
	if yamlVersion != modVersion {
		t.Fatalf("templ.yaml says templ %s but go.mod pins %s", yamlVersion, modVersion)
	}
}

// firstField returns the first word after prefix on the first line of file
// that contains it (after trimming spaces).
func firstField(t *testing.T, file, prefix string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			if fields := strings.Fields(rest); len(fields) > 0 {
				return fields[0]
			}
		}
	}
	return ""
}
