using System.Collections.Generic;
using System.IO;
using Org.BouncyCastle.Asn1;

namespace CertIntegration.Core.Containers;

/// <summary>
/// Walks BER/DER bytes without recursion before BouncyCastle parses them: every length must fit inside its parent,
/// nesting is bounded (a deep structure would otherwise exhaust the stack, which no catch can handle), and
/// constructed strings may not nest (BoringSSL and OpenSSL refuse those too).
/// </summary>
internal static class Asn1Guard
{
    /// <summary>Deepest nesting accepted; real certificates and PKCS#12 files stay below 20.</summary>
    public const int MaxDepth = 64;

    /// <summary>Checks the first element of <paramref name="data"/> and returns the offset just after it.</summary>
    public static int Check(byte[] data, string source) => Check(data, 0, data.Length, source);

    public static int Check(byte[] data, int start, int end, string source)
    {
        var frames = new Stack<Frame>();
        int pos = start;
        do
        {
            if (frames.Count > 0)
            {
                Frame top = frames.Peek();
                if (top.Indefinite)
                {
                    if (pos + 2 <= top.Limit && data[pos] == 0 && data[pos + 1] == 0)
                    {
                        pos += 2;
                        frames.Pop();
                        continue;
                    }
                }
                else if (pos == top.End)
                {
                    frames.Pop();
                    continue;
                }
            }

            int limit = frames.Count > 0 ? frames.Peek().Limit : end;
            if (pos >= limit)
            {
                throw Corrupt(source, "the data ends in the middle of an element (truncated file?)");
            }

            byte tag = data[pos++];
            bool constructed = (tag & 0x20) != 0;
            int tagClass = tag & 0xC0;
            int tagNo = tag & 0x1F;
            if (tagNo == 0x1F)
            {
                tagNo = 0;
                int count = 0;
                byte b;
                do
                {
                    if (pos >= limit || ++count > 4)
                    {
                        throw Corrupt(source, "a tag number is malformed");
                    }

                    b = data[pos++];
                    tagNo = (tagNo << 7) | (b & 0x7F);
                }
                while ((b & 0x80) != 0);
            }

            if (pos >= limit)
            {
                throw Corrupt(source, "the data ends in the middle of an element (truncated file?)");
            }

            int lenByte = data[pos++];
            bool indefinite = false;
            long length = 0;
            if (lenByte == 0x80)
            {
                if (!constructed)
                {
                    throw Corrupt(source, "a primitive element has an indefinite length");
                }

                indefinite = true;
            }
            else if ((lenByte & 0x80) != 0)
            {
                int n = lenByte & 0x7F;
                if (n > 4)
                {
                    throw Corrupt(source, $"an element claims a {n}-byte length field");
                }

                for (int i = 0; i < n; i++)
                {
                    if (pos >= limit)
                    {
                        throw Corrupt(source, "the data ends in the middle of a length (truncated file?)");
                    }

                    length = (length << 8) | data[pos++];
                }
            }
            else
            {
                length = lenByte;
            }

            if (!indefinite && length > limit - pos)
            {
                throw Corrupt(source, $"an element claims {length} bytes but only {limit - pos} remain (truncated file?)");
            }

            bool isString = tagClass == 0 && (tagNo == 3 || tagNo == 4);
            if (constructed)
            {
                if (frames.Count > 0 && frames.Peek().ConstructedString && isString)
                {
                    throw Corrupt(source, "a constructed string is nested inside another constructed string, which BER encoders do not produce");
                }

                if (frames.Count >= MaxDepth)
                {
                    throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                        $"{source}: the ASN.1 structure is nested more than {MaxDepth} levels deep; it was not read.");
                }

                frames.Push(indefinite
                    ? new Frame(-1, limit, true, isString)
                    : new Frame(pos + (int)length, pos + (int)length, false, isString));
            }
            else
            {
                pos += (int)length;
            }
        }
        while (frames.Count > 0);

        return pos;
    }

    /// <summary>Checks, then parses the first element with BouncyCastle (bounded by the array length).</summary>
    public static Asn1Object Parse(byte[] data, string source)
    {
        Check(data, source);
        try
        {
            using var input = new Asn1InputStream(data);
            return input.ReadObject() ?? throw Corrupt(source, "it is empty");
        }
        catch (IOException ex)
        {
            throw Corrupt(source, ex.Message, ex);
        }
    }

    public static CertIntegrationException Corrupt(string source, string what, System.Exception? inner = null) =>
        new(ErrorIds.ContainerCorrupt, FailureKind.InvalidData, $"{source} is damaged: {Messages.Clause(what, clip: false)}.", inner);

    private readonly struct Frame
    {
        public Frame(int end, int limit, bool indefinite, bool constructedString)
        {
            End = end;
            Limit = limit;
            Indefinite = indefinite;
            ConstructedString = constructedString;
        }

        public int End { get; }

        public int Limit { get; }

        public bool Indefinite { get; }

        public bool ConstructedString { get; }
    }
}
