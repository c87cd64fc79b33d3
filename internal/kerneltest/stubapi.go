package kerneltest

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
// (*Kernel, error)", "(*Kernel).Run" with "func(frame []byte) (uint32,
// error)", "Kernel" with "type", "ErrX" with "var".
func exportedAPI(t testing.TB, path string) map[string]string {
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

// StubMatches checks that the stub a kernel package builds off Linux
// exports exactly what its Linux loader exports, with the same signatures,
// so that code written against the documented API compiles on every OS.
// linux and other are the two files' paths (loader.go and
// loader_other.go). It parses source, so it runs on any OS. Names in
// except (as "(*LB).Attach") are left out: a method whose signature names
// a type that exists only on Linux cannot be stubbed.
func StubMatches(t testing.TB, linux, other string, except ...string) {
	t.Helper()
	l, o := exportedAPI(t, linux), exportedAPI(t, other)
	for _, name := range except {
		delete(l, name)
	}
	for _, name := range slices.Sorted(maps.Keys(l)) {
		if got, ok := o[name]; !ok {
			t.Errorf("%s lacks %s %s", other, name, l[name])
		} else if got != l[name] {
			t.Errorf("%s: %s has %s, %s has %s", name, linux, l[name], other, got)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(o)) {
		if _, ok := l[name]; !ok {
			t.Errorf("%s exports %s, which %s does not", other, name, linux)
		}
	}
}
