package golden

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

func TestFormatParse_RoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, lineBytes - 1, lineBytes, lineBytes + 1, 3*lineBytes + 5} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + 3)
		}
		file := Format("about\nthis", b)
		if !bytes.HasPrefix(file, []byte("# about this\n")) {
			t.Fatalf("n=%d: header %q", n, file)
		}
		if lines := bytes.Count(file, []byte("\n")); lines != 1+(n+lineBytes-1)/lineBytes {
			t.Fatalf("n=%d: %d lines", n, lines)
		}
		got, err := Parse(file)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("n=%d: Parse = %x, %v", n, got, err)
		}
	}
}

func TestParse_Rejects(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"0102\nzz\n", "line 2"},
		{"# x\n\n012\n", "line 3"},
		{"01 02\n", "line 1"},
	} {
		_, err := Parse([]byte(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "hex digits") {
			t.Errorf("Parse(%q) = %v, want an error naming %s", tc.file, err, tc.want)
		}
	}
	got, err := Parse([]byte("  # comment\n\n 0a0B \n"))
	if err != nil || !bytes.Equal(got, []byte{0x0a, 0x0b}) {
		t.Fatalf("Parse = %x, %v", got, err)
	}
}

func TestCompare(t *testing.T) {
	if err := Compare([]byte{1, 2, 3}, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		want, got []byte
		msg       string
	}{
		{[]byte{1, 2, 3}, []byte{1, 9, 3}, "got 3 bytes, want 3: first difference at byte 1: got 0903, want 0203"},
		{[]byte{1, 2, 3}, []byte{1, 2}, "got 2 bytes, want 3: first difference at byte 2: got (end), want 03"},
		{nil, []byte{5}, "got 1 bytes, want 0: first difference at byte 0: got 05, want (end)"},
	} {
		if err := Compare(tc.want, tc.got); err == nil || err.Error() != tc.msg {
			t.Errorf("Compare(%x, %x) = %v, want %q", tc.want, tc.got, err, tc.msg)
		}
	}
}

// recorder is a testing.TB whose Fatal calls stop Check and are recorded.
type recorder struct {
	testing.TB
	msg string
}

type stop struct{}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	panic(stop{})
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(stop{})
}

// fatal runs f with a recorder and returns the message of the Fatal call
// that stopped it ("" if none did).
func fatal(f func(testing.TB)) (msg string) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stop); !ok {
				panic(p)
			}
		}
		msg = r.msg
	}()
	f(r)
	return ""
}

func check(name string, got []byte) string {
	return fatal(func(tb testing.TB) { Check(tb, name, "test bytes", got) })
}

func TestCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	data := []byte("some encoding")
	if msg := check("x", data); !strings.Contains(msg, "no such file") || !strings.Contains(msg, UpdateEnv+"=1") {
		t.Fatalf("missing file: %q", msg)
	}
	t.Setenv(UpdateEnv, "1")
	if msg := check("x", data); msg != "" {
		t.Fatalf("update: %q", msg)
	}
	file, err := os.ReadFile(Path("x"))
	if err != nil || !bytes.Equal(file, Format("test bytes", data)) {
		t.Fatalf("written file %q, %v", file, err)
	}
	t.Setenv(UpdateEnv, "")
	if msg := check("x", data); msg != "" {
		t.Fatalf("same bytes: %q", msg)
	}
	if msg := check("x", []byte("some encodinG")); !strings.Contains(msg, "first difference at byte 12") || !strings.Contains(msg, "bump its version") {
		t.Fatalf("changed bytes: %q", msg)
	}
	if err := os.WriteFile(Path("x"), []byte("nothex\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg := check("x", data); !strings.Contains(msg, "line 1") {
		t.Fatalf("corrupt file: %q", msg)
	}
}

// TestRead: Read returns a file's bytes, fails naming a missing or
// corrupt file, and writes nothing in update mode.
func TestRead(t *testing.T) {
	t.Chdir(t.TempDir())
	read := func(name string) (b []byte, msg string) {
		msg = fatal(func(tb testing.TB) { b = Read(tb, name) })
		return b, msg
	}
	t.Setenv(UpdateEnv, "1")
	if _, msg := read("old"); !strings.Contains(msg, "no such file") {
		t.Fatalf("missing file: %q", msg)
	}
	if _, err := os.Stat(Path("old")); err == nil {
		t.Fatal("Read in update mode wrote the file")
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(Path("old"), Format("old bytes", []byte("v1")), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, msg := read("old"); msg != "" || string(b) != "v1" {
		t.Fatalf("Read = %q, %q; want \"v1\"", b, msg)
	}
	if err := os.WriteFile(Path("old"), []byte("# x\nzz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, msg := read("old"); !strings.Contains(msg, "old.golden: line 2") {
		t.Fatalf("corrupt file: %q", msg)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Format("x", []byte("abc")))
	f.Add([]byte("# c\n0g\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		b, err := Parse(file)
		if err != nil {
			return
		}
		again, err := Parse(Format("again", b))
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("Format/Parse changed %x to %x (%v)", b, again, err)
		}
	})
}

func TestKeys(t *testing.T) {
	keys := Keys(300)
	seen := make(map[flow.Key]bool)
	v4, v6 := 0, 0
	for i, k := range keys {
		if k == (flow.Key{}) || seen[k] {
			t.Fatalf("key %d (%v) is zero or repeated", i, k)
		}
		seen[k] = true
		switch len(k.Bytes()) {
		case flow.KeyLen4:
			v4++
		case flow.KeyLen6:
			v6++
		}
	}
	if v4 != 200 || v6 != 100 {
		t.Fatalf("%d IPv4 and %d IPv6 keys, want 200 and 100", v4, v6)
	}
	again := Keys(3)
	if again[0] != keys[0] || again[2] != keys[2] {
		t.Fatal("Keys is not the same from call to call")
	}
}

// TestKeys_Max: all MaxKeys keys are distinct, and one more is refused
// rather than a repeat.
func TestKeys_Max(t *testing.T) {
	seen := make(map[flow.Key]int, MaxKeys)
	for i, k := range Keys(MaxKeys) {
		if j, dup := seen[k]; dup {
			t.Fatalf("keys %d and %d are the same (%v)", j, i, k)
		}
		seen[k] = i
	}
	defer func() {
		if recover() == nil {
			t.Fatalf("Keys(%d) did not panic", MaxKeys+1)
		}
	}()
	Keys(MaxKeys + 1)
}
