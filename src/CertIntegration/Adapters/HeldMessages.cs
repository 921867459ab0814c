using System;
using System.Collections.Generic;
using System.Management.Automation;

namespace CertIntegration.Adapters;

/// <summary>
/// Verbose and warning messages of a core read, held until the read is over and then written by the cmdlet. A host
/// that fails a write (with -Debug, PowerShell turns warnings into a prompt, which a -NonInteractive host refuses)
/// then fails as itself, outside the read's error handling, and is never reported as a fault of the input.
/// </summary>
internal sealed class HeldMessages
{
    private readonly List<KeyValuePair<bool, string>> _messages = new();

    public void Verbose(string text) => _messages.Add(new KeyValuePair<bool, string>(false, text));

    public void Warning(string text) => _messages.Add(new KeyValuePair<bool, string>(true, text));

    /// <summary>
    /// Runs a core read with its messages held, then writes them, outside the read's error handling. Returns what the
    /// read returned, or default with <paramref name="failure"/> set to what it threw (a stopped pipeline goes on up).
    /// </summary>
    public static T? Read<T>(Cmdlet cmdlet, Func<HeldMessages, T> read, out Exception? failure)
        where T : class
    {
        var held = new HeldMessages();
        T? result = null;
        failure = null;
        try
        {
            result = read(held);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            failure = ex;
        }

        held.WriteTo(cmdlet);
        return result;
    }

    /// <summary>Writes the held messages in the order they came, and forgets them.</summary>
    public void WriteTo(Cmdlet cmdlet)
    {
        KeyValuePair<bool, string>[] messages = _messages.ToArray();
        _messages.Clear();
        foreach (KeyValuePair<bool, string> m in messages)
        {
            if (m.Key)
            {
                cmdlet.WriteWarning(m.Value);
            }
            else
            {
                cmdlet.WriteVerbose(m.Value);
            }
        }
    }
}
