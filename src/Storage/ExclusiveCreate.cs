using System.Runtime.InteropServices;

namespace Orchestrator.Storage;

/// <summary>
/// Publishes a finished staged file under a name only if that name is free, atomically: of any number of
/// concurrent callers for one name, exactly one wins, and readers only ever see the whole file. On Unix this is
/// <c>link(2)</c> (fails with EEXIST when the name is taken; <c>File.Exists</c> followed by a rename is not atomic,
/// and a rename replaces what another writer just put there). On Windows <c>MoveFileEx</c> without
/// REPLACE_EXISTING is already atomic, which is what <see cref="File.Move(string, string, bool)"/> calls.
/// </summary>
internal static class ExclusiveCreate
{
    private const int EEXIST = 17;

    /// <summary>Links <paramref name="staged"/> to <paramref name="target"/>; false when the target already exists.</summary>
    public static bool TryPublish(string staged, string target)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Move(staged, target, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(target))
            {
                return false;
            }
        }

        if (Link(staged, target) == 0)
        {
            return true; // the caller deletes the staged name; the target keeps the inode
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST)
        {
            return false;
        }

        throw new IOException($"cannot create '{target}' exclusively: link(2) failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}); the artifact folder must be on a file system with hard links");
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
}
