using System;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CertIntegration.Core.Chains;

internal static class CertificateNames
{
    public static string CommonName(X509Certificate2 cert)
    {
        string cn = cert.GetNameInfo(X509NameType.SimpleName, false);
        return string.IsNullOrWhiteSpace(cn) ? cert.Subject : cn;
    }

    /// <summary>
    /// A file name made safe for Windows, macOS and Linux alike, and for the shells that will type it: letters,
    /// digits (of any script), '.', '-', '_' and '+' are kept; every other character becomes '_' (runs of them one
    /// '_'). So no path or reserved characters, no spaces, and none that bash, cmd or PowerShell read specially: the
    /// '!' of SAP client ids ("sb-...!b18762", history expansion in bash, delayed expansion in cmd), '$', '`', '&',
    /// '|', ';', '&lt;', '&gt;', quotes, '%', '^', '(', ')', '[', ']' (PowerShell wildcards), '{', '}', '*', '?', '#', '~',
    /// '=', ',' and '@'. No leading '-', no leading or trailing dots, no device names, not empty, not overlong.
    /// </summary>
    public static string SafeFileName(string name, string fallback = "certificate")
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            sb.Append(IsKept(c) ? c : '_');
        }

        // A leading '-' would read as an option to the commands it is passed to.
        string s = sb.ToString().Trim('.', '_').TrimStart('-', '.', '_');
        while (s.Contains("__"))
        {
            s = s.Replace("__", "_");
        }

        if (s.Length > 100)
        {
            s = s.Substring(0, 100).TrimEnd('.', '_');
        }

        if (s.Length == 0)
        {
            s = fallback;
        }

        string stem = s.Split('.')[0].ToUpperInvariant();
        string[] reserved = { "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9" };
        if (reserved.Contains(stem))
        {
            s = "_" + s;
        }

        return s;
    }

    private static bool IsKept(char c) =>
        c is '.' or '-' or '_' or '+'
        || char.IsLetterOrDigit(c)
        || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark;
}
