// Package golden pins bytes that must not change by accident: the binary
// encodings that a user stores or sends. A filter saved by one release must
// load in the next, and a big-endian router and a little-endian collector
// must write the same bytes for the same structure. A test builds a small
// structure from fixed keys, encodes it and hands the bytes to [Check],
// which compares them with a committed file of hex lines.
//
// When an encoding changes on purpose (with its version byte), regenerate
// the files with DATAPLANE_UPDATE_GOLDEN=1 and review the diff.
package golden

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// UpdateEnv is the environment variable that makes [Check] rewrite the
// files instead of comparing: set it to 1.
const UpdateEnv = "DATAPLANE_UPDATE_GOLDEN"

// lineBytes is the number of bytes per hex line of a file.
const lineBytes = 32

// Path is the file of name: testdata/NAME.golden in the test's package.
func Path(name string) string { return filepath.Join("testdata", name+".golden") }

// Check compares got with the bytes in [Path](name) and fails t, naming
// the first differing offset, when they differ or the file cannot be read.
// With [UpdateEnv] set to 1 it writes got to the file, under a first line
// that says what the bytes are (about), and passes.
func Check(t testing.TB, name, about string, got []byte) {
	t.Helper()
	path := Path(name)
	if os.Getenv(UpdateEnv) == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, Format(about, got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := read(name)
	if err != nil {
		t.Fatalf("%v (write it with %s=1)", err, UpdateEnv)
	}
	if err := Compare(want, got); err != nil {
		t.Fatalf("%s: %v (if the encoding changed on purpose, bump its version and rewrite the file with %s=1)", path, err, UpdateEnv)
	}
}

// Read returns the bytes in [Path](name), and fails t when the file cannot
// be read or parsed. Unlike Check it never writes, not even in update mode:
// it is for fixtures kept from an earlier version of an encoding, which the
// decoder must go on reading.
func Read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := read(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// read returns the bytes in Path(name).
func read(name string) ([]byte, error) {
	path := Path(name)
	file, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, err := Parse(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// Format returns the file of b: "# about" (one line; newlines become
// spaces), then b in hex, lineBytes bytes a line.
func Format(about string, b []byte) []byte {
	var out bytes.Buffer
	fmt.Fprintf(&out, "# %s\n", strings.ReplaceAll(about, "\n", " "))
	for len(b) > 0 {
		n := min(len(b), lineBytes)
		out.WriteString(hex.EncodeToString(b[:n]))
		out.WriteByte('\n')
		b = b[n:]
	}
	return out.Bytes()
}

// Parse returns the bytes of a file that Format wrote: lines of hex digits,
// blank lines and lines starting with '#' skipped. A line of anything else
// is an error naming it.
func Parse(file []byte) ([]byte, error) {
	var out []byte
	for i, line := range strings.Split(string(file), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := hex.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: want an even number of hex digits: %v", i+1, err)
		}
		out = append(out, b...)
	}
	return out, nil
}

// Compare returns nil when got equals want, and otherwise an error naming
// both lengths, the first differing offset and the bytes from there.
func Compare(want, got []byte) error {
	if bytes.Equal(want, got) {
		return nil
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	window := func(b []byte) string {
		if i >= len(b) {
			return "(end)"
		}
		return hex.EncodeToString(b[i:min(len(b), i+16)])
	}
	return fmt.Errorf("got %d bytes, want %d: first difference at byte %d: got %s, want %s",
		len(got), len(want), i, window(got), window(want))
}

// MaxKeys is the most keys [Keys] makes: past it their source ports, which
// keep them apart, would repeat.
const MaxKeys = 1 << 16

// Keys returns n distinct flow keys, the same on every host and in every
// release: IPv4 keys from the documentation ranges, with every third an
// IPv6 key, TCP and UDP alternately. It panics for an n above [MaxKeys].
func Keys(n int) []flow.Key {
	if n > MaxKeys {
		panic(fmt.Sprintf("golden: %d keys asked for, at most %d are distinct", n, MaxKeys))
	}
	out := make([]flow.Key, n)
	for i := range out {
		b := byte(i)
		sport, proto := uint16(1024+i), uint8(flow.ProtoTCP)
		if i%2 == 1 {
			proto = flow.ProtoUDP
		}
		if i%3 == 2 {
			src := [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: b}
			dst := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: b ^ 0x5a}
			out[i] = flow.KeyFrom16(src, dst, sport, 443, proto)
			continue
		}
		out[i] = flow.KeyFrom4([4]byte{192, 0, 2, b}, [4]byte{198, 51, 100, b * 7}, sport, 443, proto)
	}
	return out
}
