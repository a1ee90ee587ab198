import Foundation
import Shell

exit(TaskMain.run(CommandLine.arguments))
