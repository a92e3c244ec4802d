package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxFileLines is the longest a hand-written, non-test Go file may be: one
// that can be read in one sitting.
const maxFileLines = 700

// goFiles returns the hand-written Go files below dir (not tests, not
// generated templ code), as paths relative to the module root.
func goFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") && !strings.HasSuffix(p, "_templ.go") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNoFileIsTooLongToRead(t *testing.T) {
	for _, p := range goFiles(t, ".") {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n > maxFileLines {
			t.Errorf("%s has %d lines; split it by what it holds (at most %d)", p, n, maxFileLines)
		}
	}
}

// The HTTP layer speaks to storage through repo's interfaces and typed
// errors only, never to a database driver.
func TestHandlersImportNoDatabaseDriver(t *testing.T) {
	for _, p := range goFiles(t, "handlers") {
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			switch path := strings.Trim(imp.Path.Value, `"`); {
			case path == "database/sql", strings.HasPrefix(path, "modernc.org/sqlite"), strings.HasPrefix(path, "github.com/uptrace/bun"):
				t.Errorf("%s imports %s", p, path)
			}
		}
	}
}

// Services depend on the repository interfaces, so they run on either
// database dialect: none takes a bun database or connection.
func TestNoServiceTakesADatabase(t *testing.T) {
	for _, p := range goFiles(t, "services") {
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path := strings.Trim(imp.Path.Value, `"`); strings.HasPrefix(path, "github.com/uptrace/bun") || path == "database/sql" {
				t.Errorf("%s imports %s", p, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if fn, ok := n.(*ast.FuncDecl); ok && fn.Name.IsExported() && fn.Type.Params != nil {
				for _, field := range fn.Type.Params.List {
					if sel, ok := typeSelector(field.Type); ok && sel == "bun" {
						t.Errorf("%s: %s takes a bun value", p, fn.Name.Name)
					}
				}
			}
			return true
		})
	}
}

// typeSelector returns the package qualifier of a parameter type such as
// *bun.DB or bun.IDB.
func typeSelector(e ast.Expr) (string, bool) {
	if star, ok := e.(*ast.StarExpr); ok {
		e = star.X
	}
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok {
			return id.Name, true
		}
	}
	return "", false
}
