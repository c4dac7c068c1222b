// The tiled matrix product behind every GEMM-shaped kernel (Gemm and MatMul forward and
// backward, Conv forward, backward to the data and backward to the weights):
//
//   for each z:  C(row, col) = sum over k < K of A(row, k) * B(k, col),  row < M, col < N
//
// The including kernel says where A and B come from and what happens to C by defining
// gemm_load_a, gemm_load_b and gemm_store (declared below); they are called only with
// in-range indices, so an implicit matrix (the im2col view of a conv input) costs no memory.
//
// A workgroup of WX x WY invocations owns a TM x TN tile of C (TM = WY*RM, TN = WX*RN). It walks
// K in steps of TK: all invocations copy a TM x TK slab of A and a TK x TN slab of B into shared
// memory (zeros outside the matrices, so shapes need not divide the tile; two of each, so that
// the next step's are copied while this step's are read), then each invocation
// multiplies its RM x RN register block out of shared memory. Invocation (tx, ty) owns rows
// ty + i*WY and columns tx + j*WX: neighbouring invocations read neighbouring shared words
// (no bank conflicts) and store neighbouring columns (coalesced). Where RM and RN are multiples
// of 4 (VEC4) it owns runs of 4 instead, rows ty*4 + (i%4) + (i/4)*WY*4 and the same for
// columns, so that it reads each run as one 128-bit word and neighbouring invocations still read
// neighbouring words: a 8 x 8 block then takes 4 shared reads per step of k instead of 16, which
// on GPUs is what keeps the multiply-adds, not shared memory, the limit. The tile shape is chosen on
// the host from the device's limits (runtime/vulkan/tiles.c) and arrives as specialization
// constants: the workgroup size (0, 1) and the ids below.
//
// Every loop bound is uniform across the workgroup, so the barriers are in uniform control
// flow; a grid smaller than the tile count (device limit on workgroup counts) strides over
// the remaining tiles.

layout(constant_id = 3) const uint RM = 4;  // rows of one invocation's register block
layout(constant_id = 4) const uint RN = 4;  // columns of it
layout(constant_id = 5) const uint TK = 16; // depth of one shared-memory step
// Memory order of the sources, for coalesced tile loads: A_COLUMN_MAJOR means A(row, k) and
// A(row + 1, k) are neighbours in memory (else A(row, k + 1) is); B_COLUMN_MAJOR means B(k, col)
// and B(k + 1, col) are (else B(k, col + 1) is).
layout(constant_id = 6) const bool A_COLUMN_MAJOR = false;
layout(constant_id = 7) const bool B_COLUMN_MAJOR = false;
// DIRECT: no shared memory at all; each invocation reads its own operands through the loaders
// and keeps its RM x RN block in registers. For devices where shared memory and barriers cost
// more than the reuse saves (the capability table's slow_shared_memory: llvmpipe, which runs a
// workgroup on one CPU thread and reads shared memory one lane at a time).
layout(constant_id = 8) const bool DIRECT = false;
// Split-K (runtime/vulkan/tiles.c: where the tiles are too few to fill the device) in a kernel
// that defines GEMM_PARTIALS_BINDING, the binding of a scratch buffer, before including this
// file. With SPLIT > 1 the grid's z runs over products x SPLIT slices of the reduction and each
// slice writes its partial block there instead of storing; a second dispatch of the same kernel
// with REDUCE sums the slices in slice order (so the result does not depend on scheduling) and
// stores them through gemm_store.
layout(constant_id = 9) const uint SPLIT = 1;
layout(constant_id = 10) const bool REDUCE = false;

const uint WX = gl_WorkGroupSize.x;
const uint WY = gl_WorkGroupSize.y;
const uint TM = WY * RM;
const uint TN = WX * RN;
const uint THREADS = WX * WY;
// Spelled without && or ||: glslang emits short-circuit operators in specialization-constant
// expressions as invalid SPIR-V (an id used before its definition).
const bool VEC4 = RM % 4u + RN % 4u + (DIRECT ? 1u : 0u) == 0u;
// Shared rows are padded by one word (VEC4: one 128-bit word) so that the copies walking down a
// column of the slab spread over the banks (tiles.c counts the same bytes).
const uint SA = TM + 1;
const uint SN = TN + 1;
const uint SA4 = TM / 4u + 1u;
const uint SN4 = TN / 4u + 1u;

// One word in the walks that do not use them, so a kernel declares only the slabs it reads.
// Two of each, double-buffered: the next step's slabs are filled while this step's are read.
shared float tile_a[DIRECT ? 1 : VEC4 ? 1 : 2 * TK * SA]; // [buffer][k][row]
shared float tile_b[DIRECT ? 1 : VEC4 ? 1 : 2 * TK * SN]; // [buffer][k][col]
shared vec4 tile_a4[VEC4 ? 2 * TK * SA4 : 1];             // [buffer][k][row / 4], VEC4
shared vec4 tile_b4[VEC4 ? 2 * TK * SN4 : 1];             // [buffer][k][col / 4], VEC4

// The tile row of register row i and the tile column of register column j of this invocation.
uint block_row(uint i) {
    return VEC4 ? (i / 4u) * (WY * 4u) + gl_LocalInvocationID.y * 4u + i % 4u : gl_LocalInvocationID.y + i * WY;
}
uint block_col(uint j) {
    return VEC4 ? (j / 4u) * (WX * 4u) + gl_LocalInvocationID.x * 4u + j % 4u : gl_LocalInvocationID.x + j * WX;
}

#ifdef GEMM_PARTIALS_BINDING
layout(std430, binding = GEMM_PARTIALS_BINDING) buffer GemmPartials { float gemm_partials[]; };
#endif

float gemm_load_a(uint z, uint row, uint k);
float gemm_load_b(uint z, uint k, uint col);
void gemm_store(uint z, uint row, uint col, float value);

// A(row, k) and B(k, col) inside the matrices, else 0.
float gemm_a_or_0(uint z, uint row, uint k, uint M, uint K) { return row < M && k < K ? gemm_load_a(z, row, k) : 0.0; }
float gemm_b_or_0(uint z, uint k, uint col, uint N, uint K) { return k < K && col < N ? gemm_load_b(z, k, col) : 0.0; }

// A kernel that defines GEMM_PREPARED_COLUMNS before including this file prepares columns of B
// once per tile (gemm_prepare_column: what all their loads share, e.g. an im2col column's pixel
// origin, kept by the kernel under index j < RN) and loads B through that
// (gemm_load_prepared_b), instead of deriving it from the column at every k: the DIRECT walk for
// an invocation's RN columns, the VEC4 walk for the 4 columns of its slab word where the slab of
// B is one word per invocation (SLAB_PREPARED: then it fills the same word at every step).
#ifdef GEMM_PREPARED_COLUMNS
void gemm_prepare_column(uint z, uint j, uint col);
float gemm_load_prepared_b(uint z, uint k, uint j);
#endif
const uint WORDS_A = TM / 4u, WORDS_B = TN / 4u;
const bool SLAB_PREPARED = (VEC4 ? WORDS_B * TK : 0u) == THREADS;

// This invocation's word w of B's slab and its row k there (the VEC4 walk where SLAB_PREPARED).
uint slab_word_b() { return B_COLUMN_MAJOR ? gl_LocalInvocationIndex / TK : gl_LocalInvocationIndex % WORDS_B; }
uint slab_k_b() { return B_COLUMN_MAJOR ? gl_LocalInvocationIndex % TK : gl_LocalInvocationIndex / WORDS_B; }

// Prepares the columns of this invocation's slab word of B in the tile at col0 (columns past N
// as its last).
void gemm_prepare_slab(uint z, uint col0, uint N) {
#ifdef GEMM_PREPARED_COLUMNS
    if (!SLAB_PREPARED) return;
    const uint c = col0 + 4u * slab_word_b();
    [[unroll]] for (uint j = 0; j < 4u; j++) gemm_prepare_column(z, j, min(c + j, N - 1));
#endif
}

// The slabs of step k0, into buffer buf (0 or 1). VEC4: each invocation fills whole 128-bit
// words, 4 rows (columns) at one k, the words of a slab row spread over neighbouring invocations
// where the operand's neighbours in memory run along the rows (columns), else its k.
void gemm_load_tiles(uint z, uint row0, uint col0, uint k0, uint M, uint N, uint K, uint buf) {
    if (VEC4) {
        for (uint e = gl_LocalInvocationIndex; e < WORDS_A * TK; e += THREADS) {
            const uint w = A_COLUMN_MAJOR ? e % WORDS_A : e / TK, k = A_COLUMN_MAJOR ? e / WORDS_A : e % TK;
            const uint r = row0 + 4u * w;
            tile_a4[(buf * TK + k) * SA4 + w] = vec4(gemm_a_or_0(z, r, k0 + k, M, K), gemm_a_or_0(z, r + 1u, k0 + k, M, K),
                                                     gemm_a_or_0(z, r + 2u, k0 + k, M, K), gemm_a_or_0(z, r + 3u, k0 + k, M, K));
        }
#ifdef GEMM_PREPARED_COLUMNS
        if (SLAB_PREPARED) {
            const uint w = slab_word_b(), k = k0 + slab_k_b(), c = col0 + 4u * w;
            vec4 v = vec4(0.0);
            if (k < K) {
                if (c < N) v.x = gemm_load_prepared_b(z, k, 0u);
                if (c + 1u < N) v.y = gemm_load_prepared_b(z, k, 1u);
                if (c + 2u < N) v.z = gemm_load_prepared_b(z, k, 2u);
                if (c + 3u < N) v.w = gemm_load_prepared_b(z, k, 3u);
            }
            tile_b4[(buf * TK + slab_k_b()) * SN4 + w] = v;
            return;
        }
#endif
        for (uint e = gl_LocalInvocationIndex; e < WORDS_B * TK; e += THREADS) {
            const uint w = B_COLUMN_MAJOR ? e / TK : e % WORDS_B, k = B_COLUMN_MAJOR ? e % TK : e / WORDS_B;
            const uint c = col0 + 4u * w;
            tile_b4[(buf * TK + k) * SN4 + w] = vec4(gemm_b_or_0(z, k0 + k, c, N, K), gemm_b_or_0(z, k0 + k, c + 1u, N, K),
                                                     gemm_b_or_0(z, k0 + k, c + 2u, N, K), gemm_b_or_0(z, k0 + k, c + 3u, N, K));
        }
        return;
    }
    for (uint e = gl_LocalInvocationIndex; e < TM * TK; e += THREADS) {
        uint r = A_COLUMN_MAJOR ? e % TM : e / TK;
        uint k = A_COLUMN_MAJOR ? e / TM : e % TK;
        tile_a[(buf * TK + k) * SA + r] = gemm_a_or_0(z, row0 + r, k0 + k, M, K);
    }
    for (uint e = gl_LocalInvocationIndex; e < TK * TN; e += THREADS) {
        uint c = B_COLUMN_MAJOR ? e / TK : e % TN;
        uint k = B_COLUMN_MAJOR ? e % TK : e / TN;
        tile_b[(buf * TK + k) * SN + c] = gemm_b_or_0(z, k0 + k, col0 + c, N, K);
    }
}

// The DIRECT walk over K for the block of invocation (tx, ty) in the tile at (row0, col0). Rows
// and columns past the matrix are read at its last row or column (so every load is in range and
// unconditional) and never stored.
void gemm_direct_block(uint z, uint row0, uint col0, uint M, uint N, uint k_begin, uint K, inout float acc[RM][RN]) {
    uint rows[RM], cols[RN];
    [[unroll]] for (uint i = 0; i < RM; i++) rows[i] = min(row0 + block_row(i), M - 1);
    [[unroll]] for (uint j = 0; j < RN; j++) cols[j] = min(col0 + block_col(j), N - 1);
#ifdef GEMM_PREPARED_COLUMNS
    [[unroll]] for (uint j = 0; j < RN; j++) gemm_prepare_column(z, j, cols[j]);
#endif
    for (uint k = k_begin; k < K; k++) {
        float a[RM], b[RN];
        [[unroll]] for (uint i = 0; i < RM; i++) a[i] = gemm_load_a(z, rows[i], k);
#ifdef GEMM_PREPARED_COLUMNS
        [[unroll]] for (uint j = 0; j < RN; j++) b[j] = gemm_load_prepared_b(z, k, j);
#else
        [[unroll]] for (uint j = 0; j < RN; j++) b[j] = gemm_load_b(z, k, cols[j]);
#endif
        [[unroll]] for (uint i = 0; i < RM; i++)
            [[unroll]] for (uint j = 0; j < RN; j++) acc[i][j] += a[i] * b[j];
    }
}

// z is the dispatch's: the product (the loaders' and the store's z), times SPLIT slices when
// the reduction is split.
void gemm_tile_run(uint z, uint M, uint N, uint K) {
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    const uint tiles_m = (M + TM - 1) / TM, tiles_n = (N + TN - 1) / TN;
    const bool partial = SPLIT > 1 && !REDUCE;
    const uint slice = partial ? z % SPLIT : 0u, product = partial ? z / SPLIT : z;
    // A slice's share of the reduction, in whole slab steps.
    const uint share = SPLIT > 1 ? ((K + SPLIT - 1) / SPLIT + TK - 1) / TK * TK : K;
    const uint k_begin = min(slice * share, K), k_end = min(k_begin + share, K);
    for (uint bm = gl_WorkGroupID.y; bm < tiles_m; bm += gl_NumWorkGroups.y) {
        for (uint bn = gl_WorkGroupID.x; bn < tiles_n; bn += gl_NumWorkGroups.x) {
            const uint row0 = bm * TM, col0 = bn * TN;
            float acc[RM][RN];
            [[unroll]] for (uint i = 0; i < RM; i++)
                [[unroll]] for (uint j = 0; j < RN; j++) acc[i][j] = 0.0;

            if (REDUCE) {
#ifdef GEMM_PARTIALS_BINDING
                for (uint s = 0; s < SPLIT; s++)
                    [[unroll]] for (uint i = 0; i < RM; i++) {
                        const uint row = min(row0 + block_row(i), M - 1);
                        [[unroll]] for (uint j = 0; j < RN; j++) {
                            const uint col = min(col0 + block_col(j), N - 1);
                            acc[i][j] += gemm_partials[((product * SPLIT + s) * M + row) * N + col];
                        }
                    }
#endif
            } else if (DIRECT) {
                gemm_direct_block(product, row0, col0, M, N, k_begin, k_end, acc);
            } else {
                // One barrier a step: the slabs of step k0 + TK go to the other buffer while
                // this step's are read, whose readers of the step before passed the last barrier.
                uint buf = 0u;
                gemm_prepare_slab(product, col0, N);
                gemm_load_tiles(product, row0, col0, k_begin, M, N, k_end, 0u);
                barrier();
                for (uint k0 = k_begin; k0 < k_end; k0 += TK) {
                    if (k0 + TK < k_end) gemm_load_tiles(product, row0, col0, k0 + TK, M, N, k_end, buf ^ 1u);
                    const uint at = buf * TK;
                    for (uint k = 0; k < TK; k++) {
                        float a[RM], b[RN];
                        if (VEC4) {
                            [[unroll]] for (uint q = 0; q < RM / 4u; q++) {
                                const vec4 v = tile_a4[(at + k) * SA4 + ty + q * WY];
                                a[4u * q] = v.x, a[4u * q + 1u] = v.y, a[4u * q + 2u] = v.z, a[4u * q + 3u] = v.w;
                            }
                            [[unroll]] for (uint q = 0; q < RN / 4u; q++) {
                                const vec4 v = tile_b4[(at + k) * SN4 + tx + q * WX];
                                b[4u * q] = v.x, b[4u * q + 1u] = v.y, b[4u * q + 2u] = v.z, b[4u * q + 3u] = v.w;
                            }
                        } else {
                            [[unroll]] for (uint i = 0; i < RM; i++) a[i] = tile_a[(at + k) * SA + ty + i * WY];
                            [[unroll]] for (uint j = 0; j < RN; j++) b[j] = tile_b[(at + k) * SN + tx + j * WX];
                        }
                        [[unroll]] for (uint i = 0; i < RM; i++)
                            [[unroll]] for (uint j = 0; j < RN; j++) acc[i][j] += a[i] * b[j];
                    }
                    barrier(); // the other buffer is filled, and this one's readers are done
                    buf ^= 1u;
                }
            }

            [[unroll]] for (uint i = 0; i < RM; i++) {
                const uint row = row0 + block_row(i);
                [[unroll]] for (uint j = 0; j < RN; j++) {
                    const uint col = col0 + block_col(j);
                    if (row >= M || col >= N) continue;
#ifdef GEMM_PARTIALS_BINDING
                    if (partial) {
                        gemm_partials[(z * M + row) * N + col] = acc[i][j];
                        continue;
                    }
#endif
                    gemm_store(product, row, col, acc[i][j]);
                }
            }
        }
    }
}
