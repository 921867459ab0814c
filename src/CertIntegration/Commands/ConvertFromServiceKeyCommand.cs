using System;
using System.IO;
using System.Management.Automation;
using System.Text;
using CertIntegration.Internal;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Reads an SAP Process Integration Runtime service key into a certificate bundle.</para>
/// </summary>
[Cmdlet(VerbsData.ConvertFrom, "ServiceKey", DefaultParameterSetName = PathSet)]
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

    protected override void EndProcessing()
    {
        if (_bufferedLines > 0)
        {
            string text = _buffer.ToString();
            _buffer.Clear();
            _bufferedLines = 0;
            if (text.Trim().Length > 0)
            {
                ReadText(text, "Service key from the pipeline", text);
            }
        }
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
                if (_bufferedLines == 0 && ServiceKeyReader.TryParseComplete(s) is { } docs)
                {
                    foreach (JObject doc in docs)
                    {
                        Emit(doc, "Service key from the pipeline", s);
                    }
                }
                else
                {
                    _buffer.Append(s).Append('\n');
                    _bufferedLines++;
                    if (_buffer.Length > Limits.MaxInputBytes)
                    {
                        _buffer.Clear();
                        _bufferedLines = 0;
                        WriteFailure(new CertIntegrationException(ErrorIds.LimitExceeded, ErrorCategory.LimitsExceeded,
                            $"The piped text is larger than {Limits.MaxInputBytes} bytes; a service key is a few kilobytes."), null);
                    }
                }

                return;
            case FileInfo file:
                ReadFile(file.FullName, input);
                return;
            case CertificateBundle bundle:
                WriteObject(bundle);
                return;
            default:
                try
                {
                    JObject json = ServiceKeyReader.FromPSObject(input!);
                    Emit(json, "Service key object", input);
                }
                catch (Exception ex) when (ex is not PipelineStoppedException)
                {
                    WriteFailure(ex, input);
                }

                return;
        }
    }

    private void ReadFile(string path, object? target)
    {
        try
        {
            string text = SafeFile.DecodeText(SafeFile.ReadBounded(path));
            WriteVerbose($"Reading service key '{path}'.");
            foreach (JObject doc in ServiceKeyReader.ParseDocuments(text, $"Service key '{path}'"))
            {
                Emit(doc, $"Service key '{path}'", target, path);
            }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, target);
        }
    }

    private void ReadText(string text, string source, object target)
    {
        try
        {
            foreach (JObject doc in ServiceKeyReader.ParseDocuments(text, source))
            {
                Emit(doc, source, target);
            }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, target);
        }
    }

    private void Emit(JObject doc, string source, object? target, string? path = null)
    {
        try
        {
            CertificateBundle bundle = ServiceKeyReader.Read(doc, source, WriteVerbose);
            bundle.Source = path;
            WriteVerbose($"{source}: {bundle.Subject}, {bundle.ChainLength} certificate(s), private key: {bundle.HasPrivateKey}, expires {bundle.NotAfter:u}.");
            WriteObject(bundle);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, target);
        }
    }
}
