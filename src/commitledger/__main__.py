from commitledger.cli import main

main()
