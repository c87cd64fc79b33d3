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
		if traffic.IsRobustness(f) {
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

// fatalTB records a Fatalf and stops the call, as a test's Fatalf would.
type fatalTB struct {
	testing.TB
	msg string
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
