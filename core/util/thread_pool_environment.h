#pragma once
// The environment of the two thread pools LibTorch computes on. Torch-free.
//
// Torch's element-wise kernels run on libgomp's OpenMP pool and its GEMMs on OpenBLAS's own
// pthread pool (Debian's libopenblas0-pthread). Idle workers of either pool spin by default
// and take the cores the other one needs: libgomp's spin-waiting (measured on 2 cores:
// bundled-model forward 2.24 → 1.18 s with OMP_WAIT_POLICY=PASSIVE) and OpenBLAS's
// sched_yield() loop for 2^28 cycles after each GEMM (66 783 sched_yield calls in one eval of
// 80 windows: sys time 24 % of user; with OPENBLAS_THREAD_TIMEOUT=16, i.e. 2^16 cycles of
// spinning before sleeping, 10 %, and the eval 8 % faster; GPTQ calibration sys 4.3 → 1.7 s).
// Both libraries read their variable once, when they are loaded.

namespace core {

/// Sets OMP_WAIT_POLICY=PASSIVE and OPENBLAS_THREAD_TIMEOUT=16 where the user has not set
/// them (a user's value wins). Returns true when it set either. Call before LibTorch is loaded.
bool setThreadPoolEnvironment();

} // namespace core
