namespace CertIntegration.Bench;

internal static class Program
{
    private static int Main(string[] args)
    {
        string Arg(int i, string fallback) => args.Length > i ? args[i] : fallback;
        switch (args.Length > 0 ? args[0] : string.Empty)
        {
            case "profile":
                return Profile.Run(args[1], int.Parse(Arg(2, "200")), Arg(3, Path.Combine(Path.GetTempPath(), "ci-bench-profile")), Arg(4, "TripleDesSha1"));
            case "parse-profile":
                return ParseProfile.Run(args[1], int.Parse(Arg(2, "200")));
            case "kdf-floor":
                return KdfFloor.Run(int.Parse(args[1]), Arg(2, "TripleDesSha1"), int.Parse(Arg(3, "1")));
            case "server":
                return MtlsServer.Run(int.Parse(args[1]), args[2], args[3], args[4], int.Parse(Arg(5, "100")));
            default:
                Console.Error.WriteLine("usage: CertIntegration.Bench profile <key.json> [count] [outdir] [TripleDesSha1|Aes256Sha256]");
                return 2;
        }
    }
}
