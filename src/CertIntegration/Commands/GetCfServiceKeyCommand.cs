using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using CertIntegration.Core.CloudFoundry;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Gets the service keys of a Process Integration Runtime instance through the Cloud Foundry API, as certificate bundles.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CfServiceKey", HelpUri = HelpUris.Base + "get-cfservicekey")]
[OutputType(typeof(CfServiceKey))]
public sealed class GetCfServiceKeyCommand : CfCommand
{
    /// <summary>Names of the keys; wildcards allowed. Default all keys of the instance.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            CfServiceKeys keys = Keys;
            (CfInstance instance, List<CfBinding> bindings) = Run(async ct =>
            {
                (string? spaceGuid, string? spaceName) = await keys.SpaceAsync(Space, ct).ConfigureAwait(false);
                CfInstance found = await keys.InstanceAsync(ServiceInstance, spaceGuid, spaceName, ct).ConfigureAwait(false);
                string? exact = Name is { Length: 1 } n && !WildcardPattern.ContainsWildcardCharacters(n[0]) ? n[0] : null;
                return (found, await keys.KeysAsync(found, exact, ct).ConfigureAwait(false));
            });

            var patterns = (Name ?? Array.Empty<string>()).Select(n => (Text: n, Pattern: new WildcardPattern(n, WildcardOptions.IgnoreCase))).ToList();
            foreach (var p in patterns.Where(p => !WildcardPattern.ContainsWildcardCharacters(p.Text) && !bindings.Any(b => string.Equals(b.Name, p.Text, StringComparison.Ordinal))))
            {
                WriteFailure(new CertIntegrationException(ErrorIds.CfServiceKeyNotFound, FailureKind.ObjectNotFound,
                    $"The service instance '{instance.Name}' has no service key '{p.Text}' (cf service-keys {instance.Name})."), p.Text);
            }

            foreach (CfBinding binding in bindings.Where(b => patterns.Count == 0 || patterns.Any(p => p.Pattern.IsMatch(b.Name))))
            {
                try
                {
                    WriteObject(Run(ct => keys.ReadAsync(instance, binding, Verbose, ct)));
                }
                catch (Exception ex) when (ex is not PipelineStoppedException)
                {
                    WriteFailure(ex, binding.Name);
                }
            }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, ServiceInstance);
        }
    }
}
