using System.Security.Cryptography;
using System.Text;

namespace Reimage.Orchestrator.Audit;

/// <summary>One machine's chain head as a leaf of a checkpoint's Merkle tree.</summary>
public readonly record struct ChainHead(Guid MachineId, byte[] Head);

/// <summary>
/// The Merkle tree of a checkpoint, in the form of RFC 6962 (Certificate Transparency): leaves are the chain heads
/// ordered by machine id (<see cref="Order"/>), a leaf hashes as <c>SHA-256(0x00 || machine id as text || head)</c>,
/// an inner node as <c>SHA-256(0x01 || left || right)</c>, a tree of n leaves splits at the largest power of two below
/// n, and the empty tree is <c>SHA-256("")</c>. An inclusion proof shows that one machine's head is in a tree without
/// the other leaves, which is what a sealed evidence bundle carries.
/// </summary>
public static class MerkleTree
{
    /// <summary>The leaf order: machine ids as lower-case text, ordinal.</summary>
    public static List<ChainHead> Order(IEnumerable<ChainHead> heads) =>
        [.. heads.OrderBy(h => h.MachineId.ToString("D"), StringComparer.Ordinal)];

    public static byte[] Root(IReadOnlyList<ChainHead> ordered) =>
        ordered.Count == 0 ? SHA256.HashData([]) : Node(ordered, 0, ordered.Count);

    /// <summary>The sibling hashes from leaf <paramref name="index"/> up to the root (RFC 6962 audit path).</summary>
    public static List<byte[]> Proof(IReadOnlyList<ChainHead> ordered, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, ordered.Count);
        var path = new List<byte[]>();
        Path(ordered, index, 0, ordered.Count, path);
        return path;
    }

    /// <summary>Whether <paramref name="leaf"/>, at <paramref name="index"/> of a tree of <paramref name="size"/> leaves, leads to <paramref name="root"/>.</summary>
    public static bool Verify(ChainHead leaf, int index, int size, IReadOnlyList<byte[]> proof, byte[] root)
    {
        if (index < 0 || index >= size)
        {
            return false;
        }

        var position = 0;
        var hash = Recompute(Leaf(leaf), index, size, proof, ref position);
        return position == proof.Count && hash.AsSpan().SequenceEqual(root);
    }

    private static byte[] Recompute(byte[] leaf, int index, int size, IReadOnlyList<byte[]> proof, ref int position)
    {
        if (size == 1)
        {
            return leaf;
        }

        var k = Split(size);
        // The path is listed from the leaf upwards: the deepest sibling comes first.
        if (index < k)
        {
            var left = Recompute(leaf, index, k, proof, ref position);
            return position < proof.Count ? Inner(left, proof[position++]) : [];
        }

        var right = Recompute(leaf, index - k, size - k, proof, ref position);
        return position < proof.Count ? Inner(proof[position++], right) : [];
    }

    private static void Path(IReadOnlyList<ChainHead> leaves, int index, int start, int count, List<byte[]> path)
    {
        if (count == 1)
        {
            return;
        }

        var k = Split(count);
        if (index < k)
        {
            Path(leaves, index, start, k, path);
            path.Add(Node(leaves, start + k, count - k));
        }
        else
        {
            Path(leaves, index - k, start + k, count - k, path);
            path.Add(Node(leaves, start, k));
        }
    }

    private static byte[] Node(IReadOnlyList<ChainHead> leaves, int start, int count)
    {
        if (count == 1)
        {
            return Leaf(leaves[start]);
        }

        var k = Split(count);
        return Inner(Node(leaves, start, k), Node(leaves, start + k, count - k));
    }

    private static int Split(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }

    private static byte[] Leaf(ChainHead head)
    {
        var id = Encoding.ASCII.GetBytes(head.MachineId.ToString("D"));
        var input = new byte[1 + id.Length + head.Head.Length];
        id.CopyTo(input, 1);
        head.Head.CopyTo(input, 1 + id.Length);
        return SHA256.HashData(input);
    }

    private static byte[] Inner(byte[] left, byte[] right)
    {
        var input = new byte[1 + left.Length + right.Length];
        input[0] = 1;
        left.CopyTo(input, 1);
        right.CopyTo(input, 1 + left.Length);
        return SHA256.HashData(input);
    }
}
