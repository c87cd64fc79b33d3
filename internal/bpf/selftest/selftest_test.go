//go:build linux

package selftest

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// farTerms is selftest_far of selftest.bpf.c.
var farTerms = [...]uint32{65537, 92682, 0x80000000, 0xffffffff}

// TestKernel_GoldenVectors runs every golden vector of flow/testdata through
// hash.h in the kernel: xxHash64 of the key, four mixes, four indexes and
// four bit-array (triple-hashing) indexes, then the mix and bit-array index
// of the terms in farTerms, compared with package flow's.
func TestKernel_GoldenVectors(t *testing.T) {
	spec, err := loadSelftest()
	if err != nil {
		t.Fatal(err)
	}
	var objs selftestObjects
	kerneltest.Load(t, spec, nil, &objs)

	f, err := os.Open("../../../flow/testdata/hash_vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var keyHex string
		var seed, hash uint64
		var mix [4]uint64
		var idx, dbl [4]uint32
		if _, err := fmt.Sscanf(line, "%s %x %x %x %x %x %x %d %d %d %d %d %d %d %d", &keyHex, &seed, &hash,
			&mix[0], &mix[1], &mix[2], &mix[3], &idx[0], &idx[1], &idx[2], &idx[3],
			&dbl[0], &dbl[1], &dbl[2], &dbl[3]); err != nil {
			t.Fatalf("vector %q: %v", line, err)
		}
		kb, err := hex.DecodeString(keyHex)
		if err != nil {
			t.Fatal(err)
		}
		var in selftestSelftestIn
		copy(in.Key.Bytes[:], kb)
		in.Key.Len = uint8(len(kb))
		in.Seed = seed
		in.M = 1000003
		if err := objs.SelftestInput.Put(uint32(0), &in); err != nil {
			t.Fatal(err)
		}
		if verdict, _ := kerneltest.Run(t, objs.XdpSelftest, make([]byte, 64)); verdict != 2 {
			t.Fatalf("selftest returned verdict %d", verdict)
		}
		var out selftestSelftestOut
		if err := objs.SelftestOutput.Lookup(uint32(0), &out); err != nil {
			t.Fatal(err)
		}
		if out.Hash != hash || out.Mix != mix || out.Index != idx || out.BitIndex != dbl {
			t.Errorf("key %s seed %#x: kernel hash %#x mix %x index %v double %v, want %#x %x %v %v",
				keyHex, seed, out.Hash, out.Mix, out.Index, out.BitIndex, hash, mix, idx, dbl)
		}
		// The far terms (selftest_far in selftest.bpf.c), against the Go
		// functions: their 32-bit arithmetic shows only there.
		for j, i := range farTerms {
			if got, want := out.MixFar[j], flow.Mix(hash, i); got != want {
				t.Errorf("key %s seed %#x: kernel dp_mix(h, %d) = %#x, flow.Mix %#x", keyHex, seed, i, got, want)
			}
			if got, want := out.BitIndexFar[j], flow.BitIndex(hash, i, in.M); got != want {
				t.Errorf("key %s seed %#x: kernel dp_bit_index(h, %d, m) = %d, flow.BitIndex %d", keyHex, seed, i, got, want)
			}
		}
		n++
	}
	if n == 0 {
		t.Fatal("no golden vectors read")
	}
	t.Logf("%d golden vectors agree between Go and the kernel", n)
}
