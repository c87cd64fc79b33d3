//go:build linux

package selftest

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// farTerms is selftest_far of selftest.bpf.c.
var farTerms = [...]uint32{65537, 92682, 0x80000000, 0xffffffff}

// TestKernel_GoldenVectors runs every golden vector of flow/testdata through
// hash.h in the kernel: xxHash64 of the key, four mixes, four indexes and
// four bit-array (triple-hashing) indexes, then the mix and bit-array index
// of the terms in farTerms, compared with package flow's. On each vector's
// hash it also runs the helpers the kernels derive bits with, whose Go
// twins the golden vectors do not reach: dp_bit_next, the incremental
// bit-array derivation of bloom/xdp's classic filter, for 32 indexes
// against flow.BitIndex; and blocked.h's dp_block_set (atomic and plain),
// dp_block_test_upto and dp_block_test, for k from 1 to 32 (one k a
// vector), against the block bloom.Blocked sets for the hash.
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
		in.K = uint32(n%bloom.MaxHashes + 1)
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
		for i, got := range out.BitNext {
			if want := flow.BitIndex(hash, uint32(i), in.M); got != want {
				t.Errorf("key %s seed %#x: kernel dp_bit_next, index %d: %d, flow.BitIndex %d", keyHex, seed, i, got, want)
			}
		}
		checkBlock(t, fmt.Sprintf("key %s seed %#x k %d", keyHex, seed, in.K), hash, in.K, &out)
		n++
	}
	if n == 0 {
		t.Fatal("no golden vectors read")
	}
	t.Logf("%d golden vectors agree between Go and the kernel", n)
}

// checkBlock compares the kernel's blocked.h results in out, for hash and
// k, with bloom.Blocked's: a filter of one block, where every key's block
// is block 0.
func checkBlock(t *testing.T, what string, hash uint64, k uint32, out *selftestSelftestOut) {
	t.Helper()
	f := bloom.MustNewBlocked(bloom.Params{Bits: bloom.BlockBits, Hashes: int(k), Seed: 1})
	if f.TestAndAddHash(hash) {
		t.Fatalf("%s: bloom.Blocked finds the key in an empty block", what)
	}
	want := [8]uint64(f.Words())
	if out.Block != want || out.BlockPlain != want {
		t.Errorf("%s: kernel dp_block_set sets block %x (atomic), %x (plain); bloom.Blocked %x", what, out.Block, out.BlockPlain, want)
	}
	if out.BlockClear != 0x101 || out.BlockAgain != 0 {
		t.Errorf("%s: kernel dp_block_set found a bit clear %#x on the empty block, %#x on its own; want 0x101 (atomic and plain) and 0", what, out.BlockClear, out.BlockAgain)
	}
	wantK := uint32(1) // dp_block_test, with k a constant: up to 16
	if k > 16 {
		wantK = 2
	}
	if out.BlockTest != 1 || out.BlockTestK != wantK {
		t.Errorf("%s: kernel tests the key it set: dp_block_test_upto %d, dp_block_test %d; want 1, %d", what, out.BlockTest, out.BlockTestK, wantK)
	}
	// Less its lowest set bit, the block misses the key, in Go too.
	for i, w := range want {
		if w != 0 {
			f.Words()[i] = w & (w - 1)
			break
		}
	}
	if f.ContainsHash(hash) {
		t.Fatalf("%s: bloom.Blocked finds the key in its block less a bit", what)
	}
	if wantK == 1 {
		wantK = 0
	}
	if out.BlockMiss != 0 || out.BlockMissK != wantK {
		t.Errorf("%s: kernel tests the key in its block less a bit: dp_block_test_upto %d, dp_block_test %d; want 0, %d", what, out.BlockMiss, out.BlockMissK, wantK)
	}
}
