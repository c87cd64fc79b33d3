// Package traffic gives tests and benchmarks of every package the shared
// captures: their files, packets, Ethernet frames and flow keys, and
// amplified key sets of any size. The captures are found through the
// DATAPLANE_TRAFFIC_DIR environment variable; without it every function
// skips the calling test or benchmark with a message saying so.
//
// Everything is read and computed once per process and shared (the
// functions are safe for concurrent tests); callers must not modify what
// they get. A capture that cannot be read fails the caller.
//
// It depends on the testing package only through [testing.TB], so the bench
// module can use it as well as the tests of this module.
package traffic

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
)

// EnvDir is the environment variable naming the directory of the shared
// captures.
const EnvDir = "DATAPLANE_TRAFFIC_DIR"

// Dir returns the directory of the shared captures, or skips tb when
// DATAPLANE_TRAFFIC_DIR is not set. It fails tb when the variable names no
// directory. A relative path is taken from the working directory, which
// go test sets to the directory of the package under test: the failure
// says so.
func Dir(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv(EnvDir)
	if d == "" {
		tb.Skip(EnvDir + " is not set: skipping the part that needs captured traffic (set it to a directory of pcap or pcapng files)")
	}
	if st, err := os.Stat(d); err != nil {
		tb.Fatalf("traffic: %s=%q: %v%s (set it to a directory of pcap or pcapng files)", EnvDir, d, err, relative(d))
	} else if !st.IsDir() {
		tb.Fatalf("traffic: %s=%q is not a directory%s (set it to a directory of pcap or pcapng files)", EnvDir, d, relative(d))
	}
	return d
}

// relative returns, for a relative path d, a note saying where it was
// looked for, and "" for an absolute one.
func relative(d string) string {
	if filepath.IsAbs(d) {
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return "; it is a relative path: give an absolute one"
	}
	return fmt.Sprintf("; it is a relative path, taken from %s (go test runs each package in its own directory): give an absolute one", wd)
}

// Files returns every capture under [Dir], the robustness set included,
// sorted.
func Files(tb testing.TB) []string {
	tb.Helper()
	dir := Dir(tb)
	files, err := cached(&filesCache, dir, func() ([]string, error) {
		f, err := capture.Files(dir)
		if err == nil && len(f) == 0 {
			err = fmt.Errorf("traffic: no capture under %s%s", dir, relative(dir))
		}
		return f, err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// MainFiles returns the captures outside the robustness/ directory: the
// real and synthetic captures meant for benchmarks and flow statistics.
func MainFiles(tb testing.TB) []string {
	tb.Helper()
	dir := Dir(tb)
	var out []string
	for _, f := range Files(tb) {
		if !IsRobustness(dir, f) {
			out = append(out, f)
		}
	}
	return out
}

// IsRobustness reports whether the capture at path, under dir, lies in a
// robustness/ directory below dir (odd frames for parser tests, not for
// statistics). Only the part of path below dir counts: a dir whose own
// path has a robustness/ in it took every capture for a robustness one.
func IsRobustness(dir, path string) bool {
	if rel, err := filepath.Rel(dir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		path = rel
	}
	return slices.Contains(strings.Split(filepath.ToSlash(path), "/"), "robustness")
}

// Load returns the packets of the capture at path, read once per process.
func Load(tb testing.TB, path string) []capture.Packet {
	tb.Helper()
	pkts, err := cached(&loadCache, path, func() ([]capture.Packet, error) { return capture.ReadFile(path) })
	if err != nil {
		tb.Fatal(err)
	}
	return pkts
}

// Frames returns the packets of the capture at path as Ethernet frames
// (see [capture.Packet.Ethernet]), in capture order; packets whose link
// type cannot be converted are left out.
func Frames(tb testing.TB, path string) [][]byte {
	tb.Helper()
	pkts := Load(tb, path)
	frames, _ := cached(&framesCache, path, func() ([][]byte, error) {
		out := make([][]byte, 0, len(pkts))
		for i := range pkts {
			if f, ok := pkts[i].Ethernet(nil); ok {
				out = append(out, f)
			}
		}
		return out, nil
	})
	return frames
}

// MainFrames returns the Ethernet frames of every main capture
// ([MainFiles]), file after file.
func MainFrames(tb testing.TB) [][]byte {
	tb.Helper()
	files := MainFiles(tb)
	var all [][]byte
	for _, f := range files {
		all = append(all, Frames(tb, f)...)
	}
	return all
}

// Keys returns the flow key of every packet of the main captures that
// [flow.Parse] accepts, in packet order, file after file: a key appears
// once per packet, so counting them gives flow sizes.
func Keys(tb testing.TB) []flow.Key {
	tb.Helper()
	files := MainFiles(tb)
	frames := make([][][]byte, len(files))
	for i, f := range files {
		frames[i] = Frames(tb, f)
	}
	keys, _ := cached(&keysCache, Dir(tb), func() ([]flow.Key, error) {
		var out []flow.Key
		for _, ff := range frames {
			for _, fr := range ff {
				if info, err := flow.Parse(fr); err == nil {
					out = append(out, info.Key)
				}
			}
		}
		return out, nil
	})
	return keys
}

// DistinctKeys returns at least min distinct flow keys: the distinct keys
// of the main captures ([Keys], in order of first appearance), then those
// of as many amplified copies as needed (see [capture.Amplifier]; copy c's
// keys are the capture's keys with copy c's addresses), copy after copy.
// Real per-flow address and port structure is kept; only the number of
// networks grows. The result is cached per directory and min.
func DistinctKeys(tb testing.TB, min int) []flow.Key {
	tb.Helper()
	if min < 1 {
		tb.Fatalf("traffic: DistinctKeys min must be at least 1, got %d", min)
	}
	files := MainFiles(tb)
	var pkts []capture.Packet
	for _, f := range files {
		pkts = append(pkts, Load(tb, f)...)
	}
	base := Keys(tb)
	keys, err := cached(&distinctCache, distinctKey{Dir(tb), min}, func() ([]flow.Key, error) {
		seen := make(map[flow.Key]struct{}, len(base))
		var uniq []flow.Key
		for _, k := range base {
			if _, ok := seen[k]; !ok {
				seen[k] = struct{}{}
				uniq = append(uniq, k)
			}
		}
		if len(uniq) == 0 {
			return nil, errors.New("traffic: the main captures hold no flow")
		}
		copies := (min + len(uniq) - 1) / len(uniq)
		a, err := capture.NewAmplifier(pkts, copies)
		if err != nil {
			return nil, err
		}
		out := make([]flow.Key, 0, copies*len(uniq))
		for c := range copies {
			for _, k := range uniq {
				out = append(out, a.Key(c, k))
			}
		}
		return out, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return keys
}

// entry is one cached result.
type entry[V any] struct {
	once sync.Once
	v    V
	err  error
}

type cache[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*entry[V]
}

var (
	filesCache    cache[string, []string]
	loadCache     cache[string, []capture.Packet]
	framesCache   cache[string, [][]byte]
	keysCache     cache[string, []flow.Key] // by directory
	distinctCache cache[distinctKey, []flow.Key]
)

// distinctKey names a DistinctKeys result.
type distinctKey struct {
	dir string
	min int
}

// cached computes f once per key and returns its result to every caller.
func cached[K comparable, V any](c *cache[K, V], key K, f func() (V, error)) (V, error) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[K]*entry[V]{}
	}
	e, ok := c.m[key]
	if !ok {
		e = &entry[V]{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.v, e.err = f() })
	return e.v, e.err
}
