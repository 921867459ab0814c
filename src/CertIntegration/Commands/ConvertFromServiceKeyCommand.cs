using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Reads an SAP Process Integration Runtime service key into a certificate bundle.</para>
/// </summary>
[Cmdlet(VerbsData.ConvertFrom, "ServiceKey", DefaultParameterSetName = PathSet, HelpUri = HelpUris.Base + "convertfrom-servicekey")]
[OutputType(typeof(CertificateBundle))]
public sealed class ConvertFromServiceKeyCommand : CertIntegrationCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private const string InputObjectSet = "InputObject";

    private readonly StringBuilder _buffer = new();
    private int _bufferedLines;

    /// <summary>Service key files; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Service key files, taken literally (binds Get-ChildItem output by property).</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>JSON text (whole or line by line, as cf service-key prints it), a ConvertFrom-Json object, a hashtable or a file.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [AllowEmptyString]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputObjectSet)
        {
            ProcessInputObject(InputObject);
            return;
        }

        var files = ResolveFiles(ParameterSetName == PathSet ? Path : LiteralPath, ParameterSetName == LiteralPathSet);
        for (int i = 0; i < files.Count; i++)
        {
            Progress(1, "Reading service keys", i, files.Count, files[i]);
            ReadFile(files[i], files[i]);
        }

        Progress(1, "Reading service keys", files.Count, files.Count, "Done");
    }

    protected override void EndProcessing() => FlushBuffer(preambleAllowed: false);

    private void FlushBuffer(bool preambleAllowed)
    {
        if (_bufferedLines == 0)
        {
            return;
        }

        string text = _buffer.ToString();
        _buffer.Clear();
        _bufferedLines = 0;
        if (text.Trim().Length == 0 || (preambleAllowed && ServiceKeyFraming.IsCfPreamble(text)))
        {
            return;
        }

        ReadText(text, "Service key from the pipeline");
    }

    private void ProcessInputObject(PSObject? input)
    {
        object? value = input?.BaseObject;
        switch (value)
        {
            case null:
                return;
            case string s:
                // Whole documents piped one by one give one bundle each; anything else (cf service-key output, Get-Content
                // lines) is collected and read at the end, as ConvertFrom-Json does.
                if (ServiceKeyFraming.TryParseComplete(s) is { } docs && (_bufferedLines == 0 || !ServiceKeyFraming.IsInsideObject(_buffer.ToString())))
                {
                    // Text collected before a whole document that is not the start of an unfinished one is an input of
                    // its own: report it (one error per bad input) unless it is only cf's "Getting key ..." preamble.
                    FlushBuffer(preambleAllowed: true);
                    foreach (JObject doc in docs)
                    {
                        Emit(doc, "Service key from the pipeline", null);
                    }
                }
                else if (TryReadAsPath(s))
                {
                    // A string that names a file ("./keys/cockpit.json", wildcards too) is that file.
                }
                else
                {
                    _buffer.Append(s).Append('\n');
                    _bufferedLines++;
                    if (_buffer.Length > Limits.MaxInputBytes)
                    {
                        _buffer.Clear();
                        _bufferedLines = 0;
                        WriteFailure(new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                            $"The piped text is larger than {Limits.MaxInputBytes} bytes; a service key is a few kilobytes."), null);
                    }
                }

                return;
            case System.Collections.IList list:
                // -InputObject (cf service-key cpi key) or -InputObject (Get-Content key.json): the lines as if piped.
                foreach (object? item in list)
                {
                    ProcessInputObject(item is null ? null : PSObject.AsPSObject(item));
                }

                return;
            case FileInfo file:
                ReadFile(file.FullName, input);
                return;
            case CertificateBundle bundle:
                WriteObject(bundle);
                return;
            default:
                if (ServiceKeyFileOf(input!) is { } boundPath)
                {
                    // Objects that only name a file (PSPath, FullName or LiteralPath, as -LiteralPath binds by property)
                    // arrive here because -InputObject takes anything from the pipeline.
                    foreach (string file in ResolveFiles(new[] { boundPath }, literal: true))
                    {
                        ReadFile(file, input);
                    }

                    return;
                }

                JObject json;
                try
                {
                    json = PSObjectAdapter.ToJObject(input!);
                }
                catch (Exception ex) when (ex is not PipelineStoppedException)
                {
                    // Not a service key object (or too deep to convert): the object itself is the target, as it holds
                    // no readable key.
                    WriteFailure(ex, input);
                    return;
                }

                Emit(json, "Service key object", null);

                return;
        }
    }

    /// <summary>
    /// Reads a piped string as a path when it is one: one line without JSON in it, outside a document being collected,
    /// that names existing files (wildcards allowed) or looks like a path (see <see cref="LooksLikePath"/>), which is
    /// then FileNotFound. False for text, which is collected as before.
    /// </summary>
    private bool TryReadAsPath(string s)
    {
        string text = s.Trim();
        if (text.Length == 0 || text.Length > 4096 || text.IndexOfAny(new[] { '{', '}', '"', '\n', '\r' }) >= 0
            || (_bufferedLines > 0 && ServiceKeyFraming.IsInsideObject(_buffer.ToString())))
        {
            return false;
        }

        var problems = new List<ErrorRecord>();
        List<string> files = ResolveFiles(new[] { text }, literal: false, problems.Add);
        if (files.Count == 0 && !LooksLikePath(text))
        {
            return false;
        }

        // Text collected before the path (cf's preamble, say) is an input of its own.
        FlushBuffer(preambleAllowed: true);
        foreach (ErrorRecord problem in problems)
        {
            WriteError(problem);
        }

        if (files.Count == 0 && problems.Count == 0)
        {
            WriteFailure(new CertIntegrationException(ErrorIds.FileNotFound, FailureKind.ObjectNotFound, $"No file matches '{text}'."), s);
        }

        foreach (string file in files)
        {
            ReadFile(file, s);
        }

        return true;
    }

    // A '.' (which Base64 lines never have) and a folder separator, or a file name with an extension and no spaces
    // (cf's "Getting key ... as admin@example.com..." has spaces and no separator).
    private static bool LooksLikePath(string text)
    {
        int dot = text.LastIndexOf('.');
        bool extension = dot > 0 && dot < text.Length - 1 && text.Substring(dot + 1).All(char.IsLetterOrDigit);
        return text.IndexOf('.') >= 0
            && (text.IndexOfAny(new[] { '/', '\\' }) >= 0 || (extension && !text.Any(char.IsWhiteSpace)));
    }

    /// <summary>The file a piped object names, unless the object is itself a service key (it has its fields).</summary>
    private static string? ServiceKeyFileOf(PSObject input)
    {
        foreach (string name in new[] { "certificate", "oauth", "credentials", "clientid" })
        {
            if (input.Properties[name] is not null || (input.BaseObject is System.Collections.IDictionary d && d.Contains(name)))
            {
                return null;
            }
        }

        return FilePathOf(input);
    }

    private void ReadFile(string path, object? target)
    {
        WriteVerbose($"Reading service key '{path}'.");
        List<JObject> docs;
        try
        {
            docs = ServiceKeyFraming.ParseDocuments(SafeFile.DecodeText(SafeFile.ReadBounded(path)), $"Service key '{path}'");
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, target);
            return;
        }

        foreach (JObject doc in docs)
        {
            Emit(doc, $"Service key '{path}'", target, path);
        }
    }

    private void ReadText(string text, string source)
    {
        List<JObject> docs;
        try
        {
            docs = ServiceKeyFraming.ParseDocuments(text, source);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            // The text may hold the private key or a client secret: the error keeps a redacted copy, not the text.
            WriteFailure(ex, ServiceKeyRedaction.Redact(text));
            return;
        }

        foreach (JObject doc in docs)
        {
            Emit(doc, source, null);
        }
    }

    /// <summary>
    /// Reads one document into a bundle. <paramref name="target"/> is the error target for file inputs (the path or
    /// FileInfo); for text and objects (null) the target is a redacted copy of the document, since the input itself
    /// holds the private key and an error record lives on in $Error, transcripts and logs.
    /// </summary>
    private void Emit(JObject doc, string source, object? target, string? path = null)
    {
        // The reader's messages are written after it, outside its error handling (as Import-CertificateBundle does): a
        // host that fails a write (-Debug in a non-interactive pwsh) fails as itself, not as a fault of the service key.
        CertificateBundle? bundle = HeldMessages.Read(this, held => ServiceKeyReader.Read(doc, source, held.Verbose), out Exception? failure);
        if (bundle is null)
        {
            WriteFailure(failure!, target ?? ServiceKeyRedaction.Redact(doc));
            return;
        }

        bundle.Source = path;
        WriteVerbose($"{source}: {bundle.Subject}, {bundle.ChainLength} certificate(s), private key: {bundle.HasPrivateKey}, expires {bundle.NotAfter:u}.");
        WriteObject(bundle);
    }
}
