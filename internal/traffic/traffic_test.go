package traffic_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

func TestFiles(t *testing.T) {
	all, main := traffic.Files(t), traffic.MainFiles(t)
	// The shared directory holds 46 captures, 7 of them outside robustness/.
	if len(all) != 46 || len(main) != 7 {
		t.Errorf("%d captures, %d main; want 46 and 7", len(all), len(main))
	}
	for _, f := range main {
		if traffic.IsRobustness(traffic.Dir(t), f) {
			t.Errorf("main file %s is in robustness/", f)
		}
	}
}

func TestLoad_ConcurrentAndCached(t *testing.T) {
	path := filepath.Join(traffic.Dir(t), "ndpi-gnutella-p2p.pcap")
	var wg sync.WaitGroup
	got := make([][]capture.Packet, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = traffic.Load(t, path)
		}()
	}
	wg.Wait()
	for i := range got {
		if len(got[i]) != 3905 || &got[i][0] != &got[0][0] {
			t.Fatalf("caller %d: %d packets, shared %v", i, len(got[i]), &got[i][0] == &got[0][0])
		}
	}
}

func TestFrames_ConvertsLinkTypes(t *testing.T) {
	dir := traffic.Dir(t)
	// Linux cooked capture: every packet converts.
	sll := traffic.Frames(t, filepath.Join(dir, "robustness", "linktype-linux-sll_pcapplusplus.pcap"))
	if len(sll) != 518 {
		t.Errorf("SLL: %d frames, want 518", len(sll))
	}
	// Raw IPv4 (link type 228): 495 packets, every one IPv4.
	raw := traffic.Frames(t, filepath.Join(dir, "robustness", "ipv4-fragments-dns-rawip_dnscap.pcap"))
	if len(raw) != 495 {
		t.Fatalf("raw IPv4: %d frames, want 495", len(raw))
	}
	for i, f := range raw {
		if f[12] != 0x08 || f[13] != 0x00 {
			t.Fatalf("raw IPv4 frame %d: EtherType %x", i, f[12:14])
		}
	}
}

// TestKeys_FlowCounts checks the keys against the flow counts of the
// captures' README: distinct TCP/UDP keys (per direction, later fragments
// left out) of each main capture.
func TestKeys_FlowCounts(t *testing.T) {
	want := map[string]int{
		"ndpi-gnutella-p2p.pcap":                  927,
		"ndpi-alexa-app.pcapng":                   303,
		"pcapplusplus-example-http-browsing.pcap": 271,
		"pcapplusplus-tls2-browsing-ipv6.pcap":    665,
		"ustc-tfc2016-tinba-malware.pcap":         16208,
		"slips-test-cc-beaconing.pcap":            594,
		"zeek-echo-connections-loopback.pcap.gz":  1000,
	}
	total := 0
	for _, f := range traffic.MainFiles(t) {
		flows := map[flow.Key]bool{}
		for _, fr := range traffic.Frames(t, f) {
			info, err := flow.Parse(fr)
			if err == nil && info.Fragment != flow.LaterFragment && (info.Key.Proto() == flow.ProtoTCP || info.Key.Proto() == flow.ProtoUDP) {
				flows[info.Key] = true
			}
			if err == nil {
				total++
			}
		}
		if n, ok := want[filepath.Base(f)]; !ok || len(flows) != n {
			t.Errorf("%s: %d TCP/UDP flows, README says %d", filepath.Base(f), len(flows), n)
		}
	}
	if keys := traffic.Keys(t); len(keys) != total {
		t.Errorf("Keys: %d keys, %d packets parse", len(keys), total)
	}
}

func TestDistinctKeys(t *testing.T) {
	base := map[flow.Key]bool{}
	for _, k := range traffic.Keys(t) {
		base[k] = true
	}
	const min = 100_000
	keys := traffic.DistinctKeys(t, min)
	if len(keys) < min {
		t.Fatalf("%d keys, want at least %d", len(keys), min)
	}
	seen := make(map[flow.Key]bool, len(keys))
	for i, k := range keys {
		if seen[k] {
			t.Fatalf("key %d (%v) repeats", i, k)
		}
		seen[k] = true
	}
	// The first keys are the captures' own, in order of first appearance.
	for i := range len(base) {
		if !base[keys[i]] {
			t.Fatalf("key %d (%v) is not one of the captures' keys", i, keys[i])
		}
	}
	if again := traffic.DistinctKeys(t, min); &again[0] != &keys[0] {
		t.Error("DistinctKeys is not cached")
	}
}

// fatalTB records a Fatal, Fatalf or Skip and stops the call, as a test's
// would.
type fatalTB struct {
	testing.TB
	msg     string
	skipped string // the message of a Skip
}

type fatalStop struct{}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatalStop{})
}

// TestDir_SaysWhatIsWrong: a DATAPLANE_TRAFFIC_DIR that does not exist
// fails with the system's reason (it used to say only "is not a
// directory"), and one that names a file says that.
func TestDir_SaysWhatIsWrong(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	_, statErr := os.Stat(missing)
	if statErr == nil {
		t.Fatalf("%s exists", missing)
	}
	for _, c := range []struct{ dir, want string }{
		{missing, statErr.Error()},
		{file, "is not a directory"},
	} {
		t.Setenv(traffic.EnvDir, c.dir)
		tb := &fatalTB{TB: t}
		func() {
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(fatalStop); !ok {
						panic(r)
					}
				}
			}()
			traffic.Dir(tb)
		}()
		if !strings.Contains(tb.msg, c.want) || !strings.Contains(tb.msg, traffic.EnvDir) {
			t.Errorf("Dir with %s=%q: Fatalf %q, want it to name the variable and say %q", traffic.EnvDir, c.dir, tb.msg, c.want)
		}
	}
}

// TestDir_RelativePath: go test runs each package in its own directory,
// so a relative DATAPLANE_TRAFFIC_DIR names another directory in every
// package. A relative path that names no directory, or one without
// captures, fails saying where it was looked for and to give an absolute
// path; an absolute one is not called relative.
func TestDir_RelativePath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dir  string
		call func(testing.TB)
		want string
	}{
		{"no/such/captures", func(tb testing.TB) { traffic.Dir(tb) }, "no such file"},
		{"traffic_test.go", func(tb testing.TB) { traffic.Dir(tb) }, "is not a directory"},
		{".", func(tb testing.TB) { traffic.Files(tb) }, "no capture under ."},
	} {
		t.Setenv(traffic.EnvDir, c.dir)
		tb := &fatalTB{TB: t}
		if !stops(func() { c.call(tb) }) || !strings.Contains(tb.msg, c.want) ||
			!strings.Contains(tb.msg, "relative path, taken from "+wd) || !strings.Contains(tb.msg, "absolute") {
			t.Errorf("%s=%q: fatal %q, want it to say %q and where the relative path was taken from", traffic.EnvDir, c.dir, tb.msg, c.want)
		}
	}
	missing := filepath.Join(t.TempDir(), "missing")
	t.Setenv(traffic.EnvDir, missing)
	tb := &fatalTB{TB: t}
	if !stops(func() { traffic.Dir(tb) }) || strings.Contains(tb.msg, "relative") {
		t.Errorf("%s=%q: fatal %q, want no word of a relative path", traffic.EnvDir, missing, tb.msg)
	}
}

func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic(fatalStop{})
}

func (f *fatalTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	panic(fatalStop{})
}

// stops calls fn, which is expected to stop through tb's Fatal, Fatalf
// or Skip, and reports whether it did.
func stops(fn func()) (stopped bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(fatalStop); !ok {
				panic(r)
			}
			stopped = true
		}
	}()
	fn()
	return false
}

// TestDir_SkipsWithoutVariable: the documented behaviour without
// DATAPLANE_TRAFFIC_DIR is a skip naming the variable, not a failure.
func TestDir_SkipsWithoutVariable(t *testing.T) {
	t.Setenv(traffic.EnvDir, "")
	tb := &fatalTB{TB: t}
	if !stops(func() { traffic.Dir(tb) }) || tb.msg != "" || !strings.Contains(tb.skipped, traffic.EnvDir) {
		t.Errorf("Dir without %s: skip %q, fatal %q; want a skip naming the variable", traffic.EnvDir, tb.skipped, tb.msg)
	}
}

// writeCapture writes frames as a pcap of the given link type and returns
// its path.
func writeCapture(t *testing.T, dir string, link capture.LinkType, frames ...[]byte) string {
	t.Helper()
	var pkts []capture.Packet
	for _, f := range frames {
		pkts = append(pkts, capture.Packet{Data: f, WireLen: len(f), Link: link})
	}
	path := filepath.Join(dir, "test.pcap")
	if err := capture.WriteFile(path, pkts); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFailures(t *testing.T) {
	// A directory without captures.
	t.Setenv(traffic.EnvDir, t.TempDir())
	tb := &fatalTB{TB: t}
	if !stops(func() { traffic.Files(tb) }) || !strings.Contains(tb.msg, "no capture") {
		t.Errorf("Files of an empty directory: fatal %q, want it to say there is no capture", tb.msg)
	}
	// A capture that does not exist.
	tb = &fatalTB{TB: t}
	if !stops(func() { traffic.Load(tb, filepath.Join(t.TempDir(), "missing.pcap")) }) || tb.msg == "" {
		t.Error("Load of a missing file did not fail")
	}
}

// TestFrames_LeavesOutUnconvertible: packets of a link type with no
// Ethernet form (802.11, 105) are left out of Frames but not of Load.
func TestFrames_LeavesOutUnconvertible(t *testing.T) {
	path := writeCapture(t, t.TempDir(), 105, make([]byte, 30), make([]byte, 40))
	if n, m := len(traffic.Load(t, path)), len(traffic.Frames(t, path)); n != 2 || m != 0 {
		t.Errorf("802.11 capture: %d packets, %d frames; want 2 and 0", n, m)
	}
}

// TestIsRobustness: only the part of a path below the traffic directory
// counts, so a directory whose own path has a robustness/ in it (a
// checkout under one, or a link there) still has main captures.
func TestIsRobustness(t *testing.T) {
	for _, c := range []struct {
		dir, path string
		want      bool
	}{
		{"traffic", "traffic/robustness/a.pcap", true},
		{"traffic", "traffic/robustness/deeper/a.pcap", true},
		{".", "robustness/a.pcap", true},
		{"traffic", "traffic/robustness-old/a.pcap", false},
		{"traffic", "traffic/robustness.pcap", false},
		{"traffic", "traffic/synthetic/a.pcap", false},
		{"robustness/traffic", "robustness/traffic/a.pcap", false},
		{"/x/robustness/traffic", "/x/robustness/traffic/synthetic/a.pcap", false},
		{"/x/robustness/traffic", "/x/robustness/traffic/robustness/a.pcap", true},
		{"/elsewhere", "/x/robustness/a.pcap", true}, // not under dir: the whole path counts
	} {
		if got := traffic.IsRobustness(filepath.FromSlash(c.dir), filepath.FromSlash(c.path)); got != c.want {
			t.Errorf("IsRobustness(%q, %q) = %v, want %v", c.dir, c.path, got, c.want)
		}
	}
}

// TestMainFiles_DirUnderRobustness: the shared captures reached through a
// path with a robustness/ in it (a link) have the same main files.
func TestMainFiles_DirUnderRobustness(t *testing.T) {
	want := len(traffic.MainFiles(t))
	link := filepath.Join(t.TempDir(), "robustness", "traffic")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(traffic.Dir(t), link); err != nil {
		t.Skipf("no symbolic link here: %v", err)
	}
	t.Setenv(traffic.EnvDir, link)
	if got := len(traffic.MainFiles(t)); got != want || want == 0 {
		t.Errorf("through %s: %d main captures, want %d", link, got, want)
	}
}

func TestMainFrames(t *testing.T) {
	all := traffic.MainFrames(t)
	i := 0
	for _, f := range traffic.MainFiles(t) {
		for _, fr := range traffic.Frames(t, f) {
			if i >= len(all) || &all[i][0] != &fr[0] {
				t.Fatalf("MainFrames: frame %d is not frame %d of %s", i, i, filepath.Base(f))
			}
			i++
		}
	}
	if i != len(all) {
		t.Errorf("MainFrames: %d frames, the main files hold %d", len(all), i)
	}
}

// TestDistinctKeys_Count: the captures' distinct keys in order of first
// appearance, then whole amplified copies, as few as reach min.
func TestDistinctKeys_Count(t *testing.T) {
	var uniq []flow.Key
	seen := map[flow.Key]bool{}
	for _, k := range traffic.Keys(t) {
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, k)
		}
	}
	n := len(uniq)
	for _, c := range []struct{ min, want int }{{1, n}, {n, n}, {n + 1, 2 * n}} {
		keys := traffic.DistinctKeys(t, c.min)
		if len(keys) != c.want {
			t.Errorf("DistinctKeys(%d): %d keys, want %d (%d per copy)", c.min, len(keys), c.want, n)
			continue
		}
		for i, k := range uniq {
			if keys[i] != k {
				t.Errorf("DistinctKeys(%d): key %d is %v, want %v (order of first appearance)", c.min, i, keys[i], k)
				break
			}
		}
	}
	tb := &fatalTB{TB: t}
	// The failure names the argument, not a consequence of it deeper down.
	if !stops(func() { traffic.DistinctKeys(tb, 0) }) || !strings.Contains(tb.msg, "DistinctKeys min") {
		t.Errorf("DistinctKeys(0): fatal %q, want a failure about its min", tb.msg)
	}
}

// TestDistinctKeys_NoFlow: main captures without a single flow fail the
// caller. The results are cached per directory, so this one's are its own.
func TestDistinctKeys_NoFlow(t *testing.T) {
	dir := t.TempDir()
	arp := make([]byte, 14+28) // an ARP frame: no flow key
	arp[12], arp[13] = 0x08, 0x06
	writeCapture(t, dir, capture.LinkEthernet, arp)
	t.Setenv(traffic.EnvDir, dir)
	tb := &fatalTB{TB: t}
	if !stops(func() { traffic.DistinctKeys(tb, 1) }) || !strings.Contains(tb.msg, "no flow") {
		t.Errorf("DistinctKeys over captures without flows: fatal %q, want it to say there is no flow", tb.msg)
	}
}
