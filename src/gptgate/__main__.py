from gptgate.cli import main

main()
