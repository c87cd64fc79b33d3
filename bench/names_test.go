package bench

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// subName returns a sub-benchmark name made of key=value components, the
// form benchstat reads as configuration keys (see the package
// documentation's "Naming" section for the vocabulary): kv holds keys and
// values in turn, and subName("fpr", 0.01, "op", "add", "impl",
// "dataplane") is "fpr=0.01/op=add/impl=dataplane". Values are formatted
// with fmt.Sprint (a float64 as %g did: 0.0001, 1e-05). It panics on an
// odd kv, an empty key or value, or one holding '/', '=' or a space, which
// would break the name into other components.
func subName(kv ...any) string {
	if len(kv)%2 != 0 {
		panic(fmt.Sprintf("subName: odd number of arguments: %v", kv))
	}
	var sb strings.Builder
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		v := fmt.Sprint(kv[i+1])
		if !ok || k == "" || v == "" || strings.ContainsAny(k, "/= ") || strings.ContainsAny(v, "/= ") {
			panic(fmt.Sprintf("subName: bad component %v=%q", kv[i], v))
		}
		if i > 0 {
			sb.WriteByte('/')
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(v)
	}
	return sb.String()
}

// subValue makes s, a name taken from data (a capture file's), usable as a
// subName value: '/', '=' and white space become '_'.
func subValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '=' || unicode.IsSpace(r) {
			return '_'
		}
		return r
	}, s)
}

func TestSubName(t *testing.T) {
	for _, c := range []struct {
		kv   []any
		want string
	}{
		{[]any{"fpr", 0.01, "op", "add", "impl", "dataplane"}, "fpr=0.01/op=add/impl=dataplane"},
		{[]any{"eps", 1e-4}, "eps=0.0001"},
		{[]any{"eps", 1e-5, "k", 1000}, "eps=1e-05/k=1000"},
		{[]any{"n", 100_000, "impl", "dataplane-batch", "vs", "boom"}, "n=100000/impl=dataplane-batch/vs=boom"},
	} {
		if got := subName(c.kv...); got != c.want {
			t.Errorf("subName(%v) = %q, want %q", c.kv, got, c.want)
		}
	}
	if got, want := subValue("my trace=1/a\tb"), "my_trace_1_a_b"; got != want {
		t.Errorf("subValue: got %q, want %q", got, want)
	}
	for _, kv := range [][]any{{"op"}, {"op", "contains/hit"}, {"op", "a=b"}, {"", "x"}, {"op", ""}, {1, "x"}, {"my key", "x"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("subName(%q) did not panic", kv)
				}
			}()
			subName(kv...)
		}()
	}
}

// TestSubBenchmarksNamedBySubName: every b.Run in this package's
// benchmarks names its sub-benchmark with subName, so that every name is
// made of key=value components.
func TestSubBenchmarksNamedBySubName(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	runs := 0
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Run" || len(call.Args) != 2 {
				return true
			}
			if _, isFunc := call.Args[1].(*ast.FuncLit); !isFunc {
				return true
			}
			runs++
			if arg, ok := call.Args[0].(*ast.CallExpr); ok {
				if id, ok := arg.Fun.(*ast.Ident); ok && id.Name == "subName" {
					return true
				}
			}
			t.Errorf("%s: sub-benchmark not named by subName", fset.Position(call.Pos()))
			return true
		})
	}
	if runs == 0 {
		t.Fatal("found no b.Run call: the test looks in the wrong place")
	}
}
