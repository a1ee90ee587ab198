function __task_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __task_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __task_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __task_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __task_parse_tokens -S
    set -l unparsed_tokens (__task_tokens -pc)
    switch $unparsed_tokens[1]
    case 'task'
        __task_parse_subcommand 0 'db=' 'c=' 'no-color' 'q/quiet' 'local' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'new'
            __task_parse_subcommand 1 'prompt=' 'prompt-file=' 'project=' 'run' 'version' 'h/help'
        case 'list'
            __task_parse_subcommand 0 'status=' 'project=' 'all' 'json' 'version' 'h/help'
        case 'show'
            __task_parse_subcommand 1 'json' 'version' 'h/help'
        case 'edit'
            __task_parse_subcommand 1 'title=' 'prompt=' 'prompt-file=' 'project=' 'version' 'h/help'
        case 'delete'
            __task_parse_subcommand 1 'force' 'version' 'h/help'
        case 'run'
            __task_parse_subcommand 1 'sandbox=' 'pull' 'version' 'h/help'
        case 'send'
            __task_parse_subcommand -r 2 'timeout=' 'version' 'h/help'
        case 'keys'
            __task_parse_subcommand -r 2 'version' 'h/help'
        case 'approve'
            __task_parse_subcommand 1 'always' 'version' 'h/help'
        case 'deny'
            __task_parse_subcommand 1 'version' 'h/help'
        case 'follow'
            __task_parse_subcommand 1 'version' 'h/help'
        case 'attach'
            __task_parse_subcommand 1 'version' 'h/help'
        case 'stop'
            __task_parse_subcommand 1 'version' 'h/help'
        case 'done'
            __task_parse_subcommand 1 'version' 'h/help'
        case 'retry'
            __task_parse_subcommand 1 'f/feedback=' 'version' 'h/help'
        case 'rewind'
            __task_parse_subcommand 1 'version' 'h/help'
        case 'pull'
            __task_parse_subcommand 1 'version' 'h/help'
        case 'transcript'
            __task_parse_subcommand 1 'json' 'follow' 'version' 'h/help'
        case 'diff'
            __task_parse_subcommand 1 'stat' 'name-only' 'no-pager' 'version' 'h/help'
        case 'merge'
            __task_parse_subcommand 1 'squash' 'version' 'h/help'
        case 'pr'
            __task_parse_subcommand 1 'draft' 'version' 'h/help'
        case 'logs'
            __task_parse_subcommand 1 'follow' 'version' 'h/help'
        case 'events'
            __task_parse_subcommand 1 'json' 'follow' 'limit=' 'tail=' 'since=' 'version' 'h/help'
        case 'sprite'
            __task_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'status'
                __task_parse_subcommand 0 'version' 'h/help'
            case 'up'
                __task_parse_subcommand 0 'version' 'h/help'
            case 'down'
                __task_parse_subcommand 1 'version' 'h/help'
            case 'attach'
                __task_parse_subcommand 1 'version' 'h/help'
            case 'exec'
                __task_parse_subcommand -r 1 'dir=' 'version' 'h/help'
            case 'checkpoints'
                __task_parse_subcommand 0 'version' 'h/help'
            case 'checkpoint'
                __task_parse_subcommand -r 1 'version' 'h/help'
            case 'restore'
                __task_parse_subcommand 1 'version' 'h/help'
            case 'sessions'
                __task_parse_subcommand 0 'version' 'h/help'
            case 'token'
                __task_parse_subcommand 1 'version' 'h/help'
            case 'destroy'
                __task_parse_subcommand 0 'force' 'version' 'h/help'
            end
        case 'project'
            __task_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'add'
                __task_parse_subcommand 2 'version' 'h/help'
            case 'list'
                __task_parse_subcommand 0 'json' 'version' 'h/help'
            case 'remove'
                __task_parse_subcommand 1 'version' 'h/help'
            end
        case 'config'
            __task_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'get'
                __task_parse_subcommand 1 'version' 'h/help'
            case 'set'
                __task_parse_subcommand -r 2 'version' 'h/help'
            case 'list'
                __task_parse_subcommand 0 'json' 'version' 'h/help'
            end
        case 'set'
            __task_parse_subcommand -r 2 'version' 'h/help'
        case 'history'
            __task_parse_subcommand 1 'search=' 'version' 'h/help'
        case 'prune'
            __task_parse_subcommand 0 'before=' 'task=' 'force' 'version' 'h/help'
        case 'doctor'
            __task_parse_subcommand 0 'json' 'version' 'h/help'
        case 'usage'
            __task_parse_subcommand 1 'json' 'since=' 'version' 'h/help'
        case 'search'
            __task_parse_subcommand -r 1 'task=' 'limit=' 'json' 'version' 'h/help'
        case 'quit'
            __task_parse_subcommand 0 'version' 'h/help'
        case 'help'
            __task_parse_subcommand -r 1 'version'
        end
    end
end

function __task_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __task_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __task_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __task_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__task_tokens -p)
    if test -z "$(__task_tokens -t)"
        set -l index (count (__task_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'task' -f
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task" db' -l 'db' -d 'Use this database file for this run.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'db\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task" c' -s 'c' -d 'Run these commands (separated by ;) and exit.' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task" no-color' -l 'no-color' -d 'Never use colour.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task" q quiet' -l 'quiet' -s 'q' -d 'No banner at the shell\'s start.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task" local' -l 'local' -d 'Run tasks on this machine even when a Sprites token is set.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'new' -d 'Create a task; prints its id.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'list' -d 'List tasks (done, failed and cancelled ones only with --all or --status).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'show' -d 'Show one task in full.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'edit' -d 'Change a task\'s title, prompt or project.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'delete' -d 'Delete a task, its log and its events.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'run' -d 'Start a task\'s agent (queued while max_running agents run).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'send' -d 'Type text into a task\'s agent and wait until it is submitted.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'keys' -d 'Press keys in a task\'s agent pane (Escape, Enter, 1, C-c, Up…), for prompts and menus.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'approve' -d 'Answer Yes to the permission dialog open in a task\'s agent.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'deny' -d 'Answer No to the permission dialog open in a task\'s agent (it goes on without the tool).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'follow' -d 'Talk to a task line by line: a task#<id>> prompt whose lines go to the agent; .detach or Ctrl-D returns.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'attach' -d 'Hand the terminal to the task\'s agent (tmux); tmux\'s detach key (Ctrl-B d) comes back.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'stop' -d 'Interrupt a task\'s agent and end it (cancelled).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'done' -d 'Close a task as done, ending its agent session.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'retry' -d 'Run a finished task again, resuming its agent session when it can.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'rewind' -d 'Take a finished or blocked task back to where it started (its dropped commits are kept).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'pull' -d 'Bring a sprite task\'s branch back into its project\'s repository, listing the commits it brought.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'transcript' -d 'Show a task\'s conversation from the agent\'s transcript: your prompts, its answers and tool calls.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'diff' -d 'Show a task\'s changes: its branch against the commit it started from, then what its agent left uncommitted.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'merge' -d 'Merge a task\'s branch into the branch checked out in its project; the task is then done.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'pr' -d 'Push a task\'s branch to its project\'s origin and open a pull request with gh.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'logs' -d 'Show a task\'s log: launches, status changes, feedback.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'events' -d 'Show a task\'s hook events.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'sprite' -d 'Manage the sprite (a Fly.io VM) that tasks run on.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'project' -d 'Manage projects: folders that tasks run in.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'config' -d 'Read and change settings.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'set' -d 'Change a setting (short for config set).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'history' -d 'Show the commands typed at the task> prompt.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'prune' -d 'Drop the hook events of finished tasks and give the space back (asks first unless --force).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'doctor' -d 'Check what tasks need: the agent, its credentials, tmux, git, the data folder, the database, the sprite.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'usage' -d 'Show the tokens and cost of one task\'s agent, or of every task, with totals.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'search' -d 'Find tasks and agent activity by words: titles, prompts, commands, file paths, prompts typed, the agent\'s messages.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'quit' -d 'Leave the shell (also: exit, Ctrl-D).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task new" prompt' -l 'prompt' -d 'What the agent should do (may span lines).' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task new" prompt-file' -l 'prompt-file' -d 'Read the prompt from this file.' -rF
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task new" project' -l 'project' -d 'The project the task runs in.' -rfka '(__task_custom_completion ---completion new -- --project (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task new" run' -l 'run' -d 'Start it at once (as run).'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task new" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task new" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task list" status' -l 'status' -d 'Only tasks in this status.' -rfka 'backlog queued processing blocked done failed cancelled'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task list" project' -l 'project' -d 'Only tasks of this project.' -rfka '(__task_custom_completion ---completion list -- --project (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task list" all' -l 'all' -d 'Include finished tasks.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task list" json' -l 'json' -d 'Print JSON (see README for the shape).'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task list" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task show" -eq 1' -fka '(__task_custom_completion ---completion show -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task show" json' -l 'json' -d 'Print JSON: the task\'s fields and its log.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task show" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task edit" -eq 1' -fka '(__task_custom_completion ---completion edit -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task edit" title' -l 'title' -d 'A new title.' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task edit" prompt' -l 'prompt' -d 'A new prompt.' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task edit" prompt-file' -l 'prompt-file' -d 'Read the new prompt from this file.' -rF
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task edit" project' -l 'project' -d 'A new project ("" for none).' -rfka '(__task_custom_completion ---completion edit -- --project (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task edit" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task edit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task delete" -eq 1' -fka '(__task_custom_completion ---completion delete -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task delete" force' -l 'force' -d 'Delete even while the task is queued, processing or blocked.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task delete" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task delete" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task run" -eq 1' -fka '(__task_custom_completion ---completion run -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task run" sandbox' -l 'sandbox' -d 'Where to run: local or sprite (default: sprite when a token is set).' -rfka 'local sprite'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task run" pull' -l 'pull' -d 'Bring the task\'s branch back into the repository when it ends (sprite).'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task run" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task send" -eq 1' -fka '(__task_custom_completion ---completion send -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task send" timeout' -l 'timeout' -d 'Seconds to wait for the agent to take it.' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task send" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task send" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task keys" -eq 1' -fka '(__task_custom_completion ---completion keys -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task keys" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task keys" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task approve" -eq 1' -fka '(__task_custom_completion ---completion approve -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task approve" always' -l 'always' -d 'Take the dialog\'s "don\'t ask again" choice.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task approve" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task approve" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task deny" -eq 1' -fka '(__task_custom_completion ---completion deny -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task deny" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task deny" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task follow" -eq 1' -fka '(__task_custom_completion ---completion follow -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task follow" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task follow" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task attach" -eq 1' -fka '(__task_custom_completion ---completion attach -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task attach" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task attach" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task stop" -eq 1' -fka '(__task_custom_completion ---completion stop -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task stop" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task stop" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task done" -eq 1' -fka '(__task_custom_completion ---completion done -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task done" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task done" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task retry" -eq 1' -fka '(__task_custom_completion ---completion retry -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task retry" f feedback' -s 'f' -l 'feedback' -d 'What to tell the agent.' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task retry" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task retry" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task rewind" -eq 1' -fka '(__task_custom_completion ---completion rewind -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task rewind" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task rewind" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task pull" -eq 1' -fka '(__task_custom_completion ---completion pull -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task pull" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task pull" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task transcript" -eq 1' -fka '(__task_custom_completion ---completion transcript -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task transcript" json' -l 'json' -d 'Print the transcript\'s JSON lines as they are.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task transcript" follow' -l 'follow' -d 'Keep printing new entries until Ctrl-C.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task transcript" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task transcript" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task diff" -eq 1' -fka '(__task_custom_completion ---completion diff -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task diff" stat' -l 'stat' -d 'A summary: each changed file with its count of changed lines (git diff --stat).'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task diff" name-only' -l 'name-only' -d 'Only the names of the changed files.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task diff" no-pager' -l 'no-pager' -d 'Never page the output.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task diff" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task diff" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task merge" -eq 1' -fka '(__task_custom_completion ---completion merge -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task merge" squash' -l 'squash' -d 'Make one commit (titled as the task) of all the branch\'s changes.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task merge" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task merge" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task pr" -eq 1' -fka '(__task_custom_completion ---completion pr -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task pr" draft' -l 'draft' -d 'Open it as a draft.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task pr" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task pr" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task logs" -eq 1' -fka '(__task_custom_completion ---completion logs -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task logs" follow' -l 'follow' -d 'Keep printing new entries until Ctrl-C.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task logs" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task logs" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task events" -eq 1' -fka '(__task_custom_completion ---completion events -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task events" json' -l 'json' -d 'Print JSON lines: task, event, tool, summary, raw hook JSON, appended and stored times.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task events" follow' -l 'follow' -d 'Keep printing new events until Ctrl-C.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task events" limit' -l 'limit' -d 'At most N events, oldest first.' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task events" tail' -l 'tail' -d 'Only the newest N events.' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task events" since' -l 'since' -d 'Only events stored since TIME (2026-12-03T08:00:00Z, 2026-12-03, or 10m, 2h, 3d ago).' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task events" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task events" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'status' -d 'Show the sprite: its state (cold, warm, running), URL, version, and what keeps it awake.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'up' -d 'Create the sprite if missing and provision it (tools, hook script, agent trust, first checkpoint).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'down' -d 'Checkpoint the sprite; it pauses by itself when idle (sprites have no stop).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'attach' -d 'Open a shell on the sprite in this terminal (or join a session); leaving the shell returns to task>.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'exec' -d 'Run a command on the sprite: its output and exit status are task\'s own.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'checkpoints' -d 'List the sprite\'s checkpoints, newest first.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'checkpoint' -d 'Save the sprite\'s filesystem as a checkpoint.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'restore' -d 'Restore the sprite\'s filesystem from a checkpoint (ends its sessions).'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'sessions' -d 'List the exec sessions on the sprite.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'token' -d 'Save the Sprites API token (0600 file, never the database), or show where it comes from.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite" -eq 1' -fa 'destroy' -d 'Delete the sprite and all its checkpoints (asks first unless --force).'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite status" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite up" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite up" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite down" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite down" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite attach" -eq 1' -fka '(__task_custom_completion ---completion sprite attach -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite attach" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite attach" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite exec" dir' -l 'dir' -d 'Working directory on the sprite (default: its home).' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite exec" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite exec" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite checkpoints" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite checkpoints" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite checkpoint" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite checkpoint" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task sprite restore" -eq 1' -fka '(__task_custom_completion ---completion sprite restore -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite restore" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite restore" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite sessions" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite sessions" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite token" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite token" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite destroy" force' -l 'force' -d 'Do not ask (required in scripts).'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite destroy" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task sprite destroy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task project" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task project" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task project" -eq 1' -fa 'add' -d 'Add a project.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task project" -eq 1' -fa 'list' -d 'List projects.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task project" -eq 1' -fa 'remove' -d 'Remove a project that has no tasks.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task project add" -eq 1' -fa '(__task_complete_directories)'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task project add" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task project add" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task project list" json' -l 'json' -d 'Print JSON.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task project list" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task project list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task project remove" -eq 1' -fka '(__task_custom_completion ---completion project remove -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task project remove" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task project remove" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task config" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task config" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task config" -eq 1' -fa 'get' -d 'Print a setting\'s value.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task config" -eq 1' -fa 'set' -d 'Change a setting.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task config" -eq 1' -fa 'list' -d 'List every setting with its value and where it comes from.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task config get" -eq 1' -fka 'agent max_running permission_mode trust_workspace verbose agent_env start_timeout sprite.name sprite.agent sprite.permission_mode max_cost_usd notify notify_on notify_command'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task config get" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task config get" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task config set" -eq 1' -fka 'agent max_running permission_mode trust_workspace verbose agent_env start_timeout sprite.name sprite.agent sprite.permission_mode max_cost_usd notify notify_on notify_command'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task config set" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task config set" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task config list" json' -l 'json' -d 'Print JSON.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task config list" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task config list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task set" -eq 1' -fka 'agent max_running permission_mode trust_workspace verbose agent_env start_timeout sprite.name sprite.agent sprite.permission_mode max_cost_usd notify notify_on notify_command'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task set" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task set" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task history" search' -l 'search' -d 'Only lines containing this text.' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task history" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task history" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task prune" before' -l 'before' -d 'Only events stored before this time (2026-12-01, 2026-12-01T08:00:00Z, or 30d ago).' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task prune" task' -l 'task' -d 'Only this task\'s events.' -rfka '(__task_custom_completion ---completion prune -- --task (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task prune" force' -l 'force' -d 'Do not ask (required in scripts).'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task prune" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task prune" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task doctor" json' -l 'json' -d 'Print JSON: an array of {check, ok, detail, fix}.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task doctor" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task doctor" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_positional "task usage" -eq 1' -fka '(__task_custom_completion ---completion usage -- positional@0 (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task usage" json' -l 'json' -d 'Print JSON.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task usage" since' -l 'since' -d 'Only messages since this time (2026-12-03T08:00:00Z, 2026-12-03, or an age: 10m, 2h, 3d).' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task usage" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task usage" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task search" task' -l 'task' -d 'Only this task.' -rfka '(__task_custom_completion ---completion search -- --task (count (__task_tokens -pc)) (__task_tokens -tC))'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task search" limit' -l 'limit' -d 'At most this many hits (default 50).' -rfka ''
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task search" json' -l 'json' -d 'Print JSON, one object per hit.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task search" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task search" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task quit" version' -l 'version' -d 'Show the version.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task quit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'task' -n '__task_should_offer_completions_for_flags_or_options "task help" version' -l 'version' -d 'Show the version.'
