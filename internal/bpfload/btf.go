package bpfload

import (
	"os"
	"sync"
	"sync/atomic"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// KernelBTF reports whether the running kernel has BTF of its own
// (CONFIG_DEBUG_INFO_BTF), which such a kernel shows at
// /sys/kernel/btf/vmlinux. Where sysfs is not mounted the answer is no,
// which costs load time but no correctness (see [ForKernel]).
var KernelBTF = sync.OnceValue(func() bool {
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	return err == nil
})

// staticFuncs makes ForKernel act as on a kernel without BTF of its own:
// see [ForceStaticFuncs].
var staticFuncs atomic.Bool

// ForKernel returns spec made ready for the running kernel. On a kernel
// with BTF of its own that is spec itself. On one without
// (CONFIG_DEBUG_INFO_BTF unset, as in Debian 12's 32-bit and s390x
// kernels and many embedded ones), the verifier cannot check a global
// function whose argument is the context, as the shared parser dp_parse
// is: it checks a global function on its own, and knows the type of
// struct xdp_md only from the kernel's BTF. ForKernel then returns a copy
// of spec whose functions are all static (see [StaticFuncs]), which the
// verifier checks in line at each call, knowing their arguments from the
// caller.
//
// The programs run the same code either way; only verifying them costs
// more. On Linux 6.18 the verifier walks 3 to 30 times as many
// instructions with dp_parse static (about 109,000 instead of 7,000 for
// the Bloom filter, 434,000 instead of 132,000 for the IBLT digest, of
// its limit of a million), and a load takes 0.1 to 0.5 s instead of 0.01
// to 0.12.
func ForKernel(spec *ebpf.CollectionSpec) *ebpf.CollectionSpec {
	if spec == nil || (KernelBTF() && !staticFuncs.Load()) {
		return spec
	}
	return StaticFuncs(spec)
}

// StaticFuncs returns a copy of spec in which every function called by a
// program is static rather than global: only the BTF linkage that the
// verifier reads changes, not the code. A program's own entry function is
// left as it is. spec is not changed.
func StaticFuncs(spec *ebpf.CollectionSpec) *ebpf.CollectionSpec {
	out := spec.Copy()
	for _, ps := range out.Programs {
		for i := range ps.Instructions {
			fn := btf.FuncMetadata(&ps.Instructions[i])
			if i == 0 || fn == nil || fn.Linkage != btf.GlobalFunc {
				continue
			}
			static := *fn
			static.Linkage = btf.StaticFunc
			ps.Instructions[i] = btf.WithFuncMetadata(ps.Instructions[i], &static)
		}
	}
	return out
}

// ForceStaticFuncs makes [ForKernel], and with it [Load], treat the
// running kernel as one without BTF of its own until the function it
// returns is called. Tests use it to check, on a kernel that has BTF, that
// the kernels load and behave the same with their functions static.
func ForceStaticFuncs() (restore func()) {
	old := staticFuncs.Swap(true)
	return func() { staticFuncs.Store(old) }
}
