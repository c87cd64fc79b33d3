package xdp

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"maps"
	"slices"
	"testing"
)

// exportedAPI returns the exported top-level declarations of a Go file,
// each with its signature or type as printed: "func Load(opts Options)
// (*Kernel, error)", "method (*Kernel).Run(frame []byte) (uint32, error)",
// "type Kernel", "var ErrX".
func exportedAPI(t *testing.T, path string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	print := func(n any) string {
		var b bytes.Buffer
		printer.Fprint(&b, fset, n)
		return b.String()
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			name := d.Name.Name
			if d.Recv != nil {
				name = "(" + print(d.Recv.List[0].Type) + ")." + name
			}
			out[name] = print(d.Type)
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						out[s.Name.Name] = "type"
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							out[n.Name] = d.Tok.String()
						}
					}
				}
			}
		}
	}
	return out
}

// The stub built off Linux (loader_other.go) exports what the Linux loader
// exports, with the same signatures, so that code written against the
// documented API compiles on every OS. It used to lack Attach, NextEvent,
// Spec, Configure and ErrNoEvent. (Also checked by
// GOOS=darwin go vet ./cms/... and GOOS=windows go vet ./cms/....)
func TestAPI_StubMatchesLinux(t *testing.T) {
	linux, other := exportedAPI(t, "loader.go"), exportedAPI(t, "loader_other.go")
	for _, name := range slices.Sorted(maps.Keys(linux)) {
		if got, ok := other[name]; !ok {
			t.Errorf("loader_other.go lacks %s %s", name, linux[name])
		} else if got != linux[name] {
			t.Errorf("%s: loader.go has %s, loader_other.go %s", name, linux[name], got)
		}
	}
	for name := range other {
		if _, ok := linux[name]; !ok {
			t.Errorf("loader_other.go exports %s, which loader.go does not", name)
		}
	}
}
